import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

/**
 * Spans, logs and metrics go to an OTLP/gRPC collector over our own
 * node:http2 client; grpc-js, upstream's transport, is loaded only where a
 * proxy variable asks for it (it speaks HTTP CONNECT, ours does not).
 */
const FAST = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_BLRP_SCHEDULE_DELAY: '50', OTEL_METRIC_EXPORT_INTERVAL: '300', OTEL_SERVICE_NAME: 'grpc-transport' };

describe('OTLP/gRPC transport', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it('all three signals reach the collector while the app runs, and grpc-js is never loaded', async () => {
    receiver.reset();
    const app = await startApp('all-signals-then-report-loaded.cjs', { env: { ...FAST, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint }, waitForListening: false });
    // Before the app exits (it holds 3 s): the app's own exporters, not the exit flush, delivered these.
    await receiver.waitForSpans((spans) => spans.some((span) => span.kind === 'SERVER'), 2_500);
    await receiver.waitForLogs((logs) => logs.some((log) => log.body === 'served'), 2_500);
    await receiver.waitForMetrics((points) => points.some((point) => point.name === 'http.server.request.duration'), 2_500);
    const { code } = await app.exited;
    assert.equal(code, 0, app.stderr());
    const loaded = JSON.parse(/LOADED (.*)/.exec(app.stdout())![1]!) as { packages: string[]; http2Loaded: boolean };
    assert.ok(!loaded.packages.includes('@grpc/grpc-js'), loaded.packages.join(', '));
    assert.equal(loaded.http2Loaded, true, 'the fixture reports node:http2 once an export loaded it');
    assert.ok(receiver.requests.every((request) => request.compressed && request.encoding === 'gzip'));
    assert.equal(app.stderr(), '');
  });

  it('with http_proxy set, spans go through the proxy (upstream’s grpc-js transport), as they did before', async () => {
    receiver.reset();
    const proxy = await startConnectProxy();
    try {
      const app = await startApp('all-signals-then-report-loaded.cjs', { env: { ...FAST, HOLD_MS: '1500', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, http_proxy: `http://127.0.0.1:${proxy.port}` }, waitForListening: false });
      await receiver.waitForSpans((spans) => spans.some((span) => span.kind === 'SERVER'), 5_000);
      const { code } = await app.exited;
      assert.equal(code, 0, app.stderr());
      const loaded = JSON.parse(/LOADED (.*)/.exec(app.stdout())![1]!) as { packages: string[] };
      assert.ok(loaded.packages.includes('@grpc/grpc-js'), loaded.packages.join(', '));
      assert.ok(proxy.connects.includes(new URL(receiver.grpcEndpoint).host), `CONNECTs seen: ${proxy.connects.join(', ')}`);
    } finally {
      proxy.server.close();
    }
  });
});

/** A minimal HTTP CONNECT proxy: records each target, then pipes bytes both ways. */
async function startConnectProxy(): Promise<{ server: net.Server; port: number; connects: string[] }> {
  const connects: string[] = [];
  const server = net.createServer((client) => {
    client.once('data', (head) => {
      const match = /^CONNECT (\S+) HTTP\/1\.[01]\r\n/.exec(head.toString('latin1'));
      if (match === null) return client.destroy();
      connects.push(match[1]!);
      const [host, port] = [match[1]!.slice(0, match[1]!.lastIndexOf(':')), Number(match[1]!.slice(match[1]!.lastIndexOf(':') + 1))];
      const upstream = net.connect(port, host, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, connects };
}
