import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type ReceiverBehaviour } from '../support/otlp-receiver.ts';
import { runScript, startApp } from '../support/processes.ts';
import { freePort } from '../support/services.ts';

const SECRET = 's3cr3t-Api-K3y-9f8e7d';
const HEADERS = `x-api-key=${SECRET},authorization=Bearer%20${SECRET}`;

describe('OTEL_EXPORTER_OTLP_HEADERS values never appear in any output', () => {
  const cases: { name: string; protocol: 'grpc' | 'http/protobuf' | 'http/json'; behaviour?: ReceiverBehaviour; dead?: boolean }[] = [
    { name: 'gRPC, collector accepts', protocol: 'grpc' },
    { name: 'gRPC, collector answers UNAUTHENTICATED', protocol: 'grpc', behaviour: { grpcStatus: 16, grpcMessage: 'bad key' } },
    { name: 'gRPC, collector down', protocol: 'grpc', dead: true },
    { name: 'OTLP/HTTP protobuf, collector answers 401', protocol: 'http/protobuf', behaviour: { httpStatus: 401 } },
    { name: 'OTLP/HTTP JSON, collector answers 500', protocol: 'http/json', behaviour: { httpStatus: 500 } },
    { name: 'OTLP/HTTP protobuf, collector down', protocol: 'http/protobuf', dead: true },
  ];
  for (const level of ['info', 'debug', 'all']) {
    for (const testCase of cases) {
      it(`OTEL_LOG_LEVEL=${level}: ${testCase.name}`, async () => {
        const receiver = await startOtlpReceiver();
        if (testCase.behaviour) receiver.setBehaviour(testCase.behaviour);
        const base = testCase.protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint;
        const endpoint = testCase.dead ? `http://127.0.0.1:${await freePort()}` : base;
        const app = await startApp('use-express.cjs', {
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: testCase.protocol, OTEL_EXPORTER_OTLP_HEADERS: HEADERS, OTEL_LOG_LEVEL: level, OTEL_SERVICE_NAME: 'secrets', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
        });
        try {
          await get(`${app.url}/users/1`);
          const until = Date.now() + 5_000;
          const settled = () => (testCase.dead || testCase.behaviour ? app.stderr().includes('failed (') : receiver.spans.length > 0);
          while (!settled() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
          await app.stop();
          await receiver.close();
        }
        if (!testCase.dead && !testCase.behaviour) assert.equal(receiver.requests[0]?.headers['x-api-key'], SECRET, 'the header reached the collector');
        for (const output of [app.stdout(), app.stderr()]) {
          assert.ok(!output.includes(SECRET), `the secret was printed:\n${output.split('\n').filter((line) => line.includes(SECRET)).join('\n')}`);
          assert.ok(!output.includes(encodeURIComponent(SECRET)) && !output.includes(Buffer.from(SECRET).toString('base64')));
        }
        if (level === 'info' && (testCase.dead || testCase.behaviour)) assert.equal(app.stderr().split('\n').filter((line) => line !== '').length, 1, app.stderr());
      });
    }
  }

  it('a malformed OTEL_EXPORTER_OTLP_HEADERS is named by its key, never its value', async () => {
    const result = await runScript('empty.cjs', { env: { OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${SECRET}%ZZ`, OTEL_LOG_LEVEL: 'all' } });
    assert.equal(result.code, 0);
    assert.match(result.stderr, /OTEL_EXPORTER_OTLP_HEADERS: the value of "x-api-key" is not valid percent-encoding; skipped/);
    assert.ok(!result.stderr.includes(SECRET));
  });
});

describe('an http:// collector endpoint off this machine', () => {
  it('gets one warning that traffic is unencrypted (no connection needed to say so)', async () => {
    const result = await runScript('empty.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.internal:4317' } });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '@acme/otel-register: exporting to http://otel-collector.internal:4317 without TLS: telemetry and headers cross the network unencrypted\n');
  });

  it('https:// and loopback http:// get none', async () => {
    for (const endpoint of ['https://otel-collector.internal:4317', 'http://127.0.0.1:4317', 'http://localhost:4317', 'http://[::1]:4317']) {
      const result = await runScript('empty.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
      assert.equal(result.stderr, '', endpoint);
    }
  });
});
