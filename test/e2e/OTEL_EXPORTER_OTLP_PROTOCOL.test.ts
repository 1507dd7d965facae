import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript, startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

describe('OTEL_EXPORTER_OTLP_PROTOCOL and friends', () => {
  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    it(`${protocol}: spans arrive gzip-compressed with the configured headers`, async () => {
      const service = `protocol-${protocol.replace('/', '-')}`;
      const endpoint = protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint;
      const app = await startApp('use-express.cjs', {
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20123' },
      });
      try {
        await get(`${app.url}/users/5`);
        await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === service && s.attributes['http.route'] === '/users/:id'));
      } finally {
        await app.stop();
      }
      const requests = receiver.requests.filter((r) => r.protocol === protocol);
      assert.ok(requests.length > 0);
      assert.ok(requests.every((r) => r.compressed), `${protocol} export is gzip-compressed by default`);
      assert.ok(requests.every((r) => r.headers['x-api-key'] === 'abc 123'), 'OTEL_EXPORTER_OTLP_HEADERS reach the collector, percent-decoded');
      assert.equal(app.stderr(), '');
      const exportSpans = receiver.spans.filter((s) => s.resource['service.name'] === service && String(s.attributes['url.full'] ?? s.attributes['url.path'] ?? '').includes('/v1/traces'));
      assert.deepEqual(exportSpans, [], 'the exporter\'s own requests are not traced');
    });
  }

  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    it(`${protocol}: the spans of a request just before process.exit() arrive through the exit flush, whole`, async () => {
      const service = `exit-flush-${protocol.replace('/', '-')}`;
      const endpoint = protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint;
      const result = await runScript('exit-after-request.cjs', {
        args: ['exit', '0'],
        // A long batch delay: the spans can only leave through the flush at exit.
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '60000' },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const spans = receiver.spans.filter((s) => s.resource['service.name'] === service);
      const server = spans.find((s) => s.kind === 'SERVER');
      const client = spans.find((s) => s.kind === 'CLIENT');
      assert.ok(server !== undefined && client !== undefined, `SERVER and CLIENT spans arrived: ${spans.map((s) => `${s.kind} ${s.name}`).join(', ')}`);
      assert.equal(server.parentSpanId, client.spanId, 'the SERVER span is the CLIENT span\'s child');
      assert.equal(server.traceId, client.traceId);
      assert.equal(server.attributes['http.request.method'], 'GET');
      assert.ok(receiver.requests.some((r) => r.protocol === protocol && r.compressed));
    });
  }

  it('OTEL_EXPORTER_OTLP_COMPRESSION=none sends uncompressed', async () => {
    receiver.reset();
    const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'uncompressed' } });
    try {
      await get(`${app.url}/users/5`);
      await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === 'uncompressed'));
    } finally {
      await app.stop();
    }
    assert.ok(receiver.requests.length > 0 && receiver.requests.every((r) => !r.compressed));
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins over OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const app = await startApp('use-express.cjs', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'traces-endpoint' },
    });
    try {
      await get(`${app.url}/users/5`);
      await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === 'traces-endpoint'));
    } finally {
      await app.stop();
    }
  });
});
