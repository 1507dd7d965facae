import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { burst } from '../support/load.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

const LOAD_SECONDS = 60;
const WARM_UP_SECONDS = 10;
/** The queue (2048 spans) and 4 exports in flight fit in a few MiB; a leak per span or per export would not. */
const MAX_GROWTH_MIB = 40;

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, `no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

describe('memory while the collector hangs', () => {
  it(`RSS stops growing once the queue is full: ${LOAD_SECONDS} s of load against a collector that never answers`, async (t) => {
    const receiver = await startOtlpReceiver();
    receiver.setBehaviour({ delayMs: 10 * 60_000 });
    // Upstream defaults for the queue and timeouts: what a user would run with.
    const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'memory', OTEL_BSP_SCHEDULE_DELAY: undefined } });
    try {
      const pid = app.child.pid!;
      const endAt = Date.now() + LOAD_SECONDS * 1000;
      const samples: { at: number; rss: number }[] = [];
      let served = 0;
      while (Date.now() < endAt) {
        const { ok, failed } = await burst(`${app.url}/users/1`, 500, 10);
        assert.equal(failed, 0);
        served += ok;
        samples.push({ at: (LOAD_SECONDS * 1000 - (endAt - Date.now())) / 1000, rss: rssMiB(pid) });
      }
      // V8 grows its young generation for a while under this allocation rate (up to
      // 128 MiB, heap in use far smaller): compare the highest RSS of the second half
      // with that of the first half after warm-up. A leak per span or per export grows
      // with the requests served and shows; a heap that has found its size does not.
      const peak = (from: number, to: number) => Math.max(...samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.rss));
      const half = (WARM_UP_SECONDS + LOAD_SECONDS) / 2;
      const firstHalf = peak(WARM_UP_SECONDS, half);
      const secondHalf = peak(half, Infinity);
      const growth = secondHalf - firstHalf;
      assert.ok(served > 2000, `only ${served} requests served`);
      assert.ok(growth <= MAX_GROWTH_MIB, `peak RSS grew ${growth.toFixed(1)} MiB from ${WARM_UP_SECONDS}-${half} s to ${half}-${LOAD_SECONDS} s (${firstHalf.toFixed(0)} -> ${secondHalf.toFixed(0)} MiB) over ${served} requests`);
      t.diagnostic(`peak RSS ${firstHalf.toFixed(0)} MiB (${WARM_UP_SECONDS}-${half} s), ${secondHalf.toFixed(0)} MiB (${half}-${LOAD_SECONDS} s), ${served} requests`);
      assert.match(app.stderr(), /exporting spans to 127\.0\.0\.1:\d+ \(OTLP grpc\) failed/);
    } finally {
      await app.stop();
      await receiver.close();
    }
  });
});
