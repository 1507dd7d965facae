import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

interface Case {
  env: Record<string, string>;
  /** The one stderr line: names the variable, the bad value and what is used instead. */
  line: RegExp;
  /** Whether spans should still reach our receiver with this mistake in place. */
  stillExports: boolean;
}

const PREFIX = '^@acme/otel-register: ';
const CASES: Case[] = [
  { env: { OTEL_TRACES_EXPORTER: 'otlp,zipkinn' }, line: /OTEL_TRACES_EXPORTER: unknown name "zipkinn" ignored; accepted: otlp, console, none/, stillExports: true },
  { env: { OTEL_TRACES_SAMPLER: 'sometimes' }, line: /OTEL_TRACES_SAMPLER="sometimes" is not one of .*; using parentbased_always_on/, stillExports: true },
  { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, line: /OTEL_TRACES_SAMPLER_ARG="half" is not a number from 0 to 1; using 1/, stillExports: true },
  { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, line: /OTEL_TRACES_SAMPLER_ARG="1.5" is not a number from 0 to 1; using 1/, stillExports: true },
  { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpcc' }, line: /OTEL_EXPORTER_OTLP_PROTOCOL="grpcc" is not one of grpc, http\/protobuf, http\/json; using grpc/, stillExports: true },
  { env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' }, line: /OTEL_EXPORTER_OTLP_COMPRESSION="brotli" is not one of gzip, none; using gzip/, stillExports: true },
  { env: { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, line: /OTEL_EXPORTER_OTLP_TIMEOUT="10s" is not a whole number from 1 to 600000; using 10000/, stillExports: true },
  { env: { OTEL_BSP_MAX_QUEUE_SIZE: '-5' }, line: /OTEL_BSP_MAX_QUEUE_SIZE="-5" is not a whole number from 1 to 1000000; using 2048/, stillExports: true },
  { env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'expres' }, line: /OTEL_NODE_DISABLED_INSTRUMENTATIONS: unknown name "expres" ignored; accepted: http, undici, express/, stillExports: true },
  { env: { OTEL_PROPAGATORS: 'tracecontext,w3c' }, line: /OTEL_PROPAGATORS: unknown name "w3c" ignored; accepted: tracecontext, baggage/, stillExports: true },
  { env: { OTEL_LOG_LEVEL: 'loud' }, line: /OTEL_LOG_LEVEL="loud" is not one of none, error, warn, info, debug, verbose, all; using info/, stillExports: true },
  { env: { OTEL_RESOURCE_ATTRIBUTES: 'team=core,broken' }, line: /OTEL_RESOURCE_ATTRIBUTES: entry "broken" is not key=value; skipped/, stillExports: true },
  { env: { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t-token,x-broken' }, line: /OTEL_EXPORTER_OTLP_HEADERS: entry "x-broken" is not key=value with a valid header name; skipped/, stillExports: true },
  { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, line: /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317" must start with http:\/\/ or https:\/\/; using the default/, stillExports: false },
  { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[bad' }, line: /OTEL_EXPORTER_OTLP_ENDPOINT="http:\/\/\[bad" is not a URL/, stillExports: false },
  { env: { OTEL_SDK_DISABLED: 'yes' }, line: /OTEL_SDK_DISABLED="yes" is not true or false; using false/, stillExports: true },
  { env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,expres' }, line: /OTEL_NODE_ENABLED_INSTRUMENTATIONS: unknown name "expres" ignored; accepted: http, undici, express/, stillExports: true },
  // Configuration mistakes are said whatever OTEL_LOG_LEVEL says: it governs the SDK's diagnostics only.
  { env: { OTEL_LOG_LEVEL: 'none', OTEL_TRACES_SAMPLER: 'bogus' }, line: /OTEL_TRACES_SAMPLER="bogus" is not one of .*; using parentbased_always_on/, stillExports: true },
  { env: { OTEL_LOG_LEVEL: 'error', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'lots' }, line: /OTEL_BSP_MAX_EXPORT_BATCH_SIZE="lots" is not a whole number .*; using 512/, stillExports: true },
];

describe('a bad value gets one clear stderr line and the app keeps serving', () => {
  CASES.forEach((testCase, index) => {
    const [variable] = Object.entries(testCase.env).at(-1)!;
    it(Object.entries(testCase.env).map(([name, text]) => `${name}=${text}`).join(' '), async () => {
      const service = `bad-config-${index}`;
      const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, ...testCase.env } });
      try {
        const reply = await get(`${app.url}/users/1`);
        assert.equal(reply.status, 200);
        if (testCase.stillExports) {
          await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'));
        }
      } finally {
        await app.stop();
      }
      const lines = app.stderr().split('\n').filter((line) => line !== '');
      const aboutVariable = lines.filter((line) => line.includes(variable));
      assert.equal(aboutVariable.length, 1, `exactly one line about ${variable}, got:\n${app.stderr()}`);
      assert.match(aboutVariable[0]!, new RegExp(PREFIX));
      assert.match(aboutVariable[0]!, testCase.line);
      const others = lines.filter((line) => !line.includes(variable));
      // With the endpoint unusable, the failed export is reported too: once, not per span.
      assert.ok(others.length <= (testCase.stillExports ? 0 : 1), `unexpected stderr lines:\n${app.stderr()}`);
      for (const line of others) assert.match(line, new RegExp(`${PREFIX}exporting spans .*failed`));
      assert.doesNotMatch(app.stderr(), /s3cr3t|Bearer/, 'header values are never printed');
      assert.doesNotMatch(app.stderr(), /\n\s+at /, 'no stack trace for a configuration mistake');
    });
  });
});
