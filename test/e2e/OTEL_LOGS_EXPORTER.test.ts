import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReceivedLogRecord } from '../support/otlp-logs.ts';
import { ofService, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { runScript, type LoaderFlag } from '../support/processes.ts';
import { withoutCorrelationFields, withoutRunVariance } from '../support/log-lines.ts';

/**
 * OTEL_LOGS_EXPORTER (otlp by default): what pino, winston and bunyan log
 * reaches the collector as OTLP log records, with severity, body, attributes
 * and the ids of the span that was active, while the app's own output stays
 * byte for byte what it is without the loader, apart from the correlation
 * fields (issue #11). The fixtures log one line before, two inside and one
 * after a request the app serves itself (test/fixtures/log-around-request.cjs).
 */

interface Library {
  name: 'pino' | 'winston' | 'bunyan';
  fixture: string;
  args?: string[];
  /** Records the fixture logs: pino and bunyan log around two requests (the logger and a child), winston one and a child's line. */
  records: number;
  /** The severity text of each level, as the library names it. */
  severityText: { info: string; warn: string; error: string };
}

const LIBRARIES: Library[] = [
  { name: 'pino', fixture: 'use-pino.cjs', args: ['stdout'], records: 8, severityText: { info: 'info', warn: 'warn', error: 'error' } },
  { name: 'winston', fixture: 'use-winston.cjs', records: 5, severityText: { info: 'info', warn: 'warn', error: 'error' } },
  { name: 'bunyan', fixture: 'use-bunyan.cjs', records: 8, severityText: { info: 'info', warn: 'warn', error: 'error' } },
];

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

function serverSpansOf(spans: readonly ReceivedSpan[], serviceName: string): ReceivedSpan[] {
  return spans.filter((span) => ofService(serviceName)(span) && span.kind === 'SERVER');
}

describe('pino, winston and bunyan records reach the collector as OTLP log records; the app writes what it writes bare', () => {
  for (const library of LIBRARIES) {
    for (const flag of ['import', 'node-options-require'] as LoaderFlag[]) {
      it(`${library.name} (${flag}): bodies, severities, attributes and the SERVER span's ids; stdout byte for byte the bare one apart from the correlation fields`, async () => {
        const serviceName = `logs-${library.name}-${flag}`;
        const bare = await runScript(library.fixture, { flag: 'none', args: library.args });
        const traced = await runScript(library.fixture, {
          flag,
          args: library.args,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '50' },
        });
        for (const run of [bare, traced]) {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.stderr, '', 'nothing on stderr');
        }
        assert.equal(withoutRunVariance(withoutCorrelationFields(traced.stdout)), withoutRunVariance(bare.stdout));

        const logs = (await receiver.waitForLogs((all) => all.filter(ofService(serviceName)).length >= library.records)).filter(ofService(serviceName));
        const spans = await receiver.waitForSpans((all) => serverSpansOf(all, serviceName).length >= 1);
        assert.equal(logs.length, library.records, 'one OTLP record per line logged, no more');
        const byBody = (body: string) => logs.filter((record) => record.body === body);

        for (const record of byBody('before the request')) {
          assert.equal(record.severityNumber, 9);
          assert.equal(record.severityText, library.severityText.info);
          assert.equal(record.attributes.phase, 'start');
          assert.equal(record.traceId, '', 'logged outside any span: no trace id');
        }
        for (const record of byBody('after the request')) {
          assert.equal(record.severityNumber, 17);
          assert.equal(record.severityText, library.severityText.error);
          assert.equal(record.traceId, '');
        }
        const inRequest = [...byBody('in the request'), ...byBody('still in the request')];
        assert.ok(inRequest.length >= 2, JSON.stringify(logs.map((r) => r.body)));
        for (const record of byBody('still in the request')) {
          assert.equal(record.severityNumber, 13);
          assert.equal(record.severityText, library.severityText.warn);
          assert.deepEqual(record.attributes.nested, { ok: true });
        }
        for (const record of byBody('in the request')) assert.equal(record.attributes.url, '/hello');
        for (const record of inRequest) {
          assert.ok(
            serverSpansOf(spans, serviceName).some((span) => span.traceId === record.traceId && span.spanId === record.spanId),
            `${JSON.stringify(record.body)} names no SERVER span of ${serviceName}: ${record.traceId}/${record.spanId}`,
          );
          assert.equal(record.flags & 1, 1, 'sampled');
        }
        for (const record of logs) {
          assert.equal(record.scope.name, `@opentelemetry/instrumentation-${library.name}`);
          for (const field of ['trace_id', 'span_id', 'trace_flags', 'msg', 'message', 'level']) assert.equal(record.attributes[field], undefined, `${field} is a field of the record, not an attribute`);
          assert.ok(record.timeUnixNano > 0n);
        }
        const logRequests = receiver.requests.filter((request) => (request.logRecordCount ?? 0) > 0 && request.protocol === 'grpc');
        assert.ok(logRequests.length > 0 && logRequests.every((request) => request.compressed && request.encoding === 'gzip'), 'gzip by default');
      });
    }
  }
});

describe('OTEL_LOGS_EXPORTER=console', () => {
  it('prints one line per record with its trace id, and sends none to the collector', async () => {
    const serviceName = 'logs-console';
    const run = await runScript('use-pino.cjs', {
      flag: 'import',
      args: ['stdout'],
      env: { OTEL_LOGS_EXPORTER: 'console', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const spans = await receiver.waitForSpans((all) => serverSpansOf(all, serviceName).length >= 2);
    const lines = run.stdout.split('\n').filter((line) => /^\d{4}-\d\d-\d\dT/.test(line));
    assert.equal(lines.length, 8, run.stdout);
    const inRequest = lines.filter((line) => line.includes('INFO  in the request '));
    assert.equal(inRequest.length, 2);
    for (const line of inRequest) {
      const match = /^\S+Z INFO {2}in the request trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16}) .*url="\/hello"/.exec(line);
      assert.ok(match, line);
      assert.ok(serverSpansOf(spans, serviceName).some((span) => span.traceId === match[1] && span.spanId === match[2]), line);
    }
    assert.match(lines.find((line) => line.includes('after the request'))!, /^\S+Z ERROR after the request trace_id=- span_id=- /);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.logs.filter(ofService(serviceName)).length, 0);
  });
});

describe('the logs SDK loads only when a log library does', () => {
  const loadedLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('CHECK'));
  it('not for a script without a log library, even with logs on by default', async () => {
    const run = await runScript('logs-sdk-loaded.cjs', { flag: 'require', env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(loadedLines(run.stdout), ['CHECK sdk-logs loaded at start: false', 'CHECK sdk-logs loaded after nothing: false']);
  });
  it('when pino is required', async () => {
    const run = await runScript('logs-sdk-loaded.cjs', { flag: 'require', args: ['pino'], env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(loadedLines(run.stdout), ['CHECK sdk-logs loaded at start: false', 'CHECK sdk-logs loaded after pino: true']);
  });
  for (const env of [{ OTEL_LOGS_EXPORTER: 'none' }, { OTEL_SDK_DISABLED: 'true' }]) {
    it(`never with ${Object.entries(env)[0]!.join('=')}, and no record is sent`, async () => {
      const serviceName = `logs-off-${Object.keys(env)[0]}`;
      const run = await runScript('logs-sdk-loaded.cjs', { flag: 'require', args: ['winston'], env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint } });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(loadedLines(run.stdout), ['CHECK sdk-logs loaded at start: false', 'CHECK sdk-logs loaded after winston: false']);
      const logged = await runScript('use-pino.cjs', { flag: 'import', args: ['stdout'], env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName } });
      assert.equal(logged.code, 0, logged.stderr);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(receiver.logs.filter(ofService(serviceName)) as ReceivedLogRecord[], []);
    });
  }
});
