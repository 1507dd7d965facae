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

describe('no span is lost under load', () => {
  // 200 ms: a collector in another zone. Upstream's processor (one export of
  // 512 spans in flight, a queue of 2048) drops most spans of this burst there.
  for (const delayMs of [0, 200]) {
    it(`5,000 requests, 50 at a time, to an express app, collector answering in ${delayMs} ms: every SERVER span arrives, the last ones at SIGTERM`, async () => {
      const service = `burst-express-${delayMs}`;
      receiver.setBehaviour({ delayMs });
      // The default batching settings (the test helpers' short delay removed), as deployed.
      const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: undefined } });
      const { ok, failed } = await burst(`${app.url}/users/7`, 5_000, 50);
      assert.deepEqual({ ok, failed }, { ok: 5_000, failed: 0 });
      const result = await app.stop('SIGTERM');
      assert.equal(result.signal, 'SIGTERM', app.stderr());
      const serverSpans = receiver.spans.filter((s) => s.resource['service.name'] === service && s.kind === 'SERVER');
      assert.equal(serverSpans.length, 5_000, `stderr: ${app.stderr()}`);
      assert.equal(new Set(serverSpans.map((s) => s.spanId)).size, 5_000, 'each one once');
      assert.doesNotMatch(app.stderr(), /dropped/);
    });
  }
});
