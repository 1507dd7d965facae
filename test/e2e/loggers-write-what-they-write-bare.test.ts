import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript, type LoaderFlag } from '../support/processes.ts';
import { withoutCorrelationFields, withoutRunVariance } from '../support/log-lines.ts';

/**
 * pino, winston and bunyan write exactly what they write without the loader,
 * to the streams, files and transports the app gave them, with their flush and
 * events intact; the only difference is the correlation fields on the lines
 * logged inside a request (issue #16). Each fixture prints CHECK lines about
 * its logger, then what reached each destination.
 */

interface Scenario {
  name: string;
  fixture: string;
  args?: string[];
  /** CHECK lines the fixture prints when the logger is untouched (asserted bare and traced). */
  checks: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'pino with destination process.stdout',
    fixture: 'use-pino.cjs',
    args: ['stdout'],
    checks: ['CHECK the logger writes to process.stdout: true'],
  },
  {
    name: 'pino.destination({ sync: false }) and logger.flush(cb)',
    fixture: 'use-pino.cjs',
    args: ['flush'],
    checks: ['CHECK the logger writes to its destination: true', 'CHECK bytes on disk when flush(cb) called back: some', 'CHECK flush(cb) had written every byte: true'],
  },
  {
    name: 'a pino transport (pino/file) and its events',
    fixture: 'use-pino.cjs',
    args: ['transport'],
    checks: ['CHECK the transport is an event emitter: function function function', 'CHECK the logger writes to the transport: true', 'CHECK the transport emitted close'],
  },
  {
    name: "winston's Console and File transports and its 'finish' event",
    fixture: 'use-winston.cjs',
    checks: [
      'CHECK transports: console,file',
      "CHECK transports are the app's own: true",
      'CHECK symbol keys of each info the Console transport logged: Symbol(level),Symbol(message),Symbol(splat)',
      'CHECK the logger emitted finish',
    ],
  },
  {
    name: 'bunyan with a stdout stream, a raw RingBuffer and a file',
    fixture: 'use-bunyan.cjs',
    checks: ['CHECK streams: stream,raw,file', 'CHECK levels: 30,30,30', 'CHECK loggers are instances of the export: true true'],
  },
];

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

describe("loggers write what they write without the loader, to the app's own streams, with flush and events intact", () => {
  for (const scenario of SCENARIOS) {
    for (const flag of ['node-options-require', 'import'] as LoaderFlag[]) {
      it(`${scenario.name} (${flag}): byte for byte the bare output apart from trace_id/span_id/trace_flags, which name the request's SERVER span`, async () => {
        const serviceName = `loggers-${scenario.fixture}-${scenario.args?.[0] ?? 'all'}-${flag}`;
        const bare = await runScript(scenario.fixture, { flag: 'none', args: scenario.args });
        const traced = await runScript(scenario.fixture, {
          flag,
          args: scenario.args,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName },
        });
        for (const run of [bare, traced]) {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.stderr, '', 'nothing on stderr: no warning from a log instrumentation');
          for (const check of scenario.checks) assert.ok(run.stdout.includes(`${check}\n`), `missing "${check}" in:\n${run.stdout}`);
        }

        // The loader was active: every line logged inside a request carries the ids of that request's SERVER span, and no other line does.
        const spans = await receiver.waitForSpans((all) => all.filter((s) => s.resource['service.name'] === serviceName && s.kind === 'SERVER').length >= 1);
        const serverSpans = spans.filter((s) => s.resource['service.name'] === serviceName && s.kind === 'SERVER');
        const logLines = traced.stdout.split('\n').filter((line) => line.startsWith('{'));
        const inRequest = logLines.filter((line) => line.includes('in the request"'));
        assert.ok(inRequest.length > 0, traced.stdout);
        for (const line of inRequest) {
          const fields = JSON.parse(line) as { trace_id?: string; span_id?: string; trace_flags?: string };
          assert.ok(
            serverSpans.some((span) => span.traceId === fields.trace_id && span.spanId === fields.span_id),
            `${line}\nnames no SERVER span of ${serviceName}`,
          );
          // Sampled, and a trace we started: random trace id (W3C flag 0x02).
          assert.equal(fields.trace_flags, '03');
        }
        for (const line of logLines.filter((line) => !line.includes('in the request"'))) assert.doesNotMatch(line, /trace_id/);

        assert.equal(withoutRunVariance(withoutCorrelationFields(traced.stdout)), withoutRunVariance(bare.stdout));
      });
    }
  }
});
