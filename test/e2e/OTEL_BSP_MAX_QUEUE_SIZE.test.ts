import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { burst } from '../support/load.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

describe('OTEL_BSP_MAX_QUEUE_SIZE', () => {
  it('a collector too slow for the app: spans beyond the queue are dropped, counted, and reported in a line or two, not per span', async () => {
    const service = 'slow-collector';
    receiver.setBehaviour({ delayMs: 1_500 });
    const app = await startApp('use-express.cjs', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' },
    });
    const requests = 600;
    assert.deepEqual(await burst(`${app.url}/users/7`, requests, 20), { ok: requests, failed: 0 });
    const result = await app.stop('SIGTERM');
    assert.equal(result.signal, 'SIGTERM', app.stderr());
    const ours = app.stderr().split('\n').filter((line) => line.startsWith('@acme/otel-register:'));
    const totals = ours.map((line) => /the span queue \(OTEL_BSP_MAX_QUEUE_SIZE=100\) is full: exports to 127\.0\.0\.1:\d+ \(OTLP grpc\) cannot keep up; (\d+) spans dropped$/.exec(line));
    assert.ok(totals.length >= 1 && totals.length <= 2 && totals.every((match) => match !== null), `one line at the first successful export, one with the rest at exit:\n${ours.join('\n')}`);
    const dropped = totals.reduce((sum, match) => sum + Number(match![1]), 0);
    const received = receiver.spans.filter((s) => s.resource['service.name'] === service);
    // Each request ends a SERVER and a request handler span: every one is either received or counted as dropped.
    assert.equal(received.length + dropped, 2 * requests, `received ${received.length}, dropped ${dropped}`);
    assert.ok(dropped > 0);
    receiver.reset();
  });
});
