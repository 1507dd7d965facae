import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { burst } from '../support/load.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';
import { freePort } from '../support/services.ts';

/**
 * A pino app under load with all three signals on (metrics collected every
 * 250 ms) against a collector that is down, hangs or flaps: requests are served as
 * fast as with a healthy collector, the heap stops growing once the queues are
 * full, and every log record logged is either received or counted on the
 * recovery line. Timing bounds are generous (a 2-core machine shared with
 * other work): they catch a request waiting on an export (seconds), not jitter.
 */

const LINES_PER_REQUEST = 20;
const WARM_UP_REQUESTS = 300;
const ROUNDS = 4;
const REQUESTS_PER_ROUND = 500;
const LOGGED = (WARM_UP_REQUESTS + ROUNDS * REQUESTS_PER_ROUND) * LINES_PER_REQUEST;
/** Queued and in-flight records, spans and metric collections are bounded: past warm-up the heap may wobble, not grow with the 40,000 records logged meanwhile (~25 MiB if they were kept). */
const MAX_HEAP_GROWTH_MIB = 12;

const receivers: OtlpReceiver[] = [];
const apps: RunningApp[] = [];
after(async () => {
  await Promise.all(apps.map((app) => app.stop('SIGKILL')));
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(options: Parameters<typeof startOtlpReceiver>[0] = {}): Promise<OtlpReceiver> {
  const started = await startOtlpReceiver(options);
  receivers.push(started);
  return started;
}

async function pinoApp(service: string, endpoint: string): Promise<RunningApp> {
  const app = await startApp('use-pino-load.cjs', {
    nodeArgs: ['--expose-gc'],
    env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_METRIC_EXPORT_INTERVAL: '250' },
  });
  apps.push(app);
  return app;
}

async function heapUsedMiB(app: RunningApp): Promise<number> {
  const reply = await get(`${app.url}/memory`);
  return (JSON.parse(reply.body) as { heapUsed: number }).heapUsed / 2 ** 20;
}

interface LoadResult {
  totalMs: number;
  medianMs: number;
  p99Ms: number;
  heapGrowthMiB: number;
  heapMiB: number[];
}

/** Warm-up (queues fill, code is compiled), then the measured rounds, the heap read after each. */
async function load(app: RunningApp): Promise<LoadResult> {
  const url = `${app.url}/log?count=${LINES_PER_REQUEST}`;
  assert.equal((await burst(url, WARM_UP_REQUESTS, 10)).failed, 0);
  const heapMiB = [await heapUsedMiB(app)];
  const latencies: number[] = [];
  const startedAt = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    const { ok } = await burst(url, REQUESTS_PER_ROUND, 10, latencies);
    assert.equal(ok, REQUESTS_PER_ROUND);
    heapMiB.push(await heapUsedMiB(app));
  }
  const totalMs = performance.now() - startedAt;
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))]!;
  return { totalMs, medianMs: at(0.5), p99Ms: at(0.99), heapGrowthMiB: Math.max(...heapMiB.slice(1)) - heapMiB[0]!, heapMiB };
}

const describeLoad = (result: LoadResult) =>
  `${(result.totalMs / 1000).toFixed(1)} s for ${ROUNDS * REQUESTS_PER_ROUND} requests, median ${result.medianMs.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, heap ${result.heapMiB.map((mib) => mib.toFixed(1)).join(' -> ')} MiB`;

async function waitForLine(app: RunningApp, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(app.stderr());
    if (match) return match;
    if (Date.now() > giveUpAt) throw new Error(`no stderr line matching ${pattern} within ${timeoutMs} ms; stderr:\n${app.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ofService = (service: string) => (item: { resource: Record<string, unknown> }) => item.resource['service.name'] === service;

describe('metrics and logs against a collector that is down, hangs or flaps: requests are not slowed, memory is bounded, log records lost are counted', () => {
  let healthy: LoadResult;

  it('baseline: a healthy collector', async (t) => {
    const collector = await receiver();
    const app = await pinoApp('logs-load-healthy', collector.grpcEndpoint);
    healthy = await load(app);
    t.diagnostic(`healthy: ${describeLoad(healthy)}`);
    await app.stop();
    assert.ok(collector.logs.filter(ofService('logs-load-healthy')).length > 0);
  });

  const faults = [
    {
      name: 'down (connection refused), then back on its port',
      start: async () => {
        const port = await freePort();
        return { endpoint: `http://127.0.0.1:${port}`, recover: () => receiver({ grpcPort: port }) };
      },
      reason: /14 UNAVAILABLE/,
    },
    {
      name: 'hanging (accepts, never answers), then answering again',
      start: async () => {
        const collector = await receiver();
        collector.setBehaviour({ delayMs: 10 * 60_000 });
        return {
          endpoint: collector.grpcEndpoint,
          recover: async () => {
            collector.setBehaviour({});
            return collector;
          },
        };
      },
      // Whichever signal's watchdog fires first: metrics' is inside OTEL_METRIC_EXPORT_INTERVAL.
      reason: /4 DEADLINE_EXCEEDED|no answer within \d+ ms/,
    },
    {
      name: 'flapping (UNAVAILABLE every other 300 ms), then steady',
      start: async () => {
        const collector = await receiver();
        let down = false;
        const flap = setInterval(() => {
          down = !down;
          collector.setBehaviour(down ? { grpcStatus: 14 } : {});
        }, 300);
        // Never what keeps the test process alive, should an assertion end the test before recover().
        flap.unref();
        return {
          endpoint: collector.grpcEndpoint,
          recover: async () => {
            clearInterval(flap);
            collector.setBehaviour({});
            return collector;
          },
        };
      },
      // Retries of UNAVAILABLE may outlast the metrics' watchdog, which then reports first.
      reason: /14 UNAVAILABLE: injected failure|no answer within \d+ ms/,
      flapping: true,
    },
  ];

  for (const [index, fault] of faults.entries()) {
    it(`collector ${fault.name}`, async (t) => {
      const service = `logs-load-fault-${index}`;
      const { endpoint, recover } = await fault.start();
      const app = await pinoApp(service, endpoint);
      const result = await load(app);
      t.diagnostic(`${fault.name}: ${describeLoad(result)}`);

      assert.ok(result.heapGrowthMiB <= MAX_HEAP_GROWTH_MIB, `heap grew ${result.heapGrowthMiB.toFixed(1)} MiB under load: ${describeLoad(result)}`);
      assert.ok(result.medianMs <= healthy.medianMs * 3 + 5, `median request ${result.medianMs.toFixed(1)} ms, healthy ${healthy.medianMs.toFixed(1)} ms`);
      assert.ok(result.p99Ms <= Math.max(healthy.p99Ms * 3, 250), `p99 ${result.p99Ms.toFixed(1)} ms, healthy ${healthy.p99Ms.toFixed(1)} ms`);
      assert.ok(result.totalMs <= healthy.totalMs * 2 + 2_000, `${describeLoad(result)}; healthy: ${describeLoad(healthy)}`);
      const target = new URL(endpoint).host;
      // One failure line per outage, from whichever signal noticed first, with the reason.
      const failedLines = app.stderr().split('\n').filter((line) => line.includes(`to ${target} (OTLP grpc) failed`));
      if (fault.flapping === true) assert.ok(failedLines.length >= 1, app.stderr());
      else assert.equal(failedLines.length, 1, app.stderr());
      for (const line of failedLines) assert.match(line, fault.reason);

      const collector = await recover();
      if (fault.flapping !== true) {
        // The collector is back once metrics (exported every 250 ms) get through; grpc-js reconnects to a refused port with a growing backoff.
        await waitForLine(app, /exporting metrics to .* works again; \d+ metric points were dropped while it failed/, 60_000);
      }
      // Records still queued leave now (OTEL_BLRP_SCHEDULE_DELAY) or at SIGTERM. An outage of the logs that
      // no later export ended (nothing was left to send) is counted when the process ends.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const { code, signal } = await app.stop('SIGTERM');
      assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}`);
      const received = collector.logs.filter(ofService(service)).length;
      // The outages' counts (at recovery or at the end), plus any full-queue line.
      const dropped = [...app.stderr().matchAll(/(\d+) log records (?:were )?dropped/g)].reduce((sum, match) => sum + Number(match[1]), 0);
      assert.ok(dropped > 0, app.stderr());
      t.diagnostic(`${LOGGED} log records logged: ${dropped} counted as dropped, ${received} received after recovery`);
      // Nothing lost silently: the loss line's count and the records received add up to what was logged.
      assert.equal(received + dropped, LOGGED, app.stderr());
    });
  }
});
