import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';
import { freePort } from '../support/services.ts';

/** Serves `count` requests, `concurrency` at a time; returns the slowest and the total time. */
async function hammer(url: string, count: number, concurrency = 10): Promise<{ totalMs: number; slowestMs: number }> {
  const startedAt = Date.now();
  let slowestMs = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const id = next++;
        const requestStartedAt = Date.now();
        assert.equal((await get(`${url}/users/${id}`)).status, 200);
        slowestMs = Math.max(slowestMs, Date.now() - requestStartedAt);
      }
    }),
  );
  return { totalMs: Date.now() - startedAt, slowestMs };
}

function lines(app: RunningApp): string[] {
  return app.stderr().split('\n').filter((line) => line !== '');
}

async function waitForLine(app: RunningApp, pattern: RegExp, count = 1, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (lines(app).filter((line) => pattern.test(line)).length < count) {
    if (Date.now() > until) throw new Error(`no ${count} stderr lines matching ${pattern} within ${timeoutMs} ms; stderr:\n${app.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FAILED = /^@acme\/otel-register: exporting spans to 127\.0\.0\.1:\d+ \(OTLP [a-z/]+\) failed \((.+)\); spans are dropped until it works again$/;
const RECOVERED = /^@acme\/otel-register: exporting spans to 127\.0\.0\.1:\d+ \(OTLP [a-z/]+\) works again; (\d+) spans were dropped while it failed$/;

async function withReceiver<T>(use: (receiver: OtlpReceiver) => Promise<T>): Promise<T> {
  const receiver = await startOtlpReceiver();
  try {
    return await use(receiver);
  } finally {
    await receiver.close();
  }
}

async function withApp<T>(env: Record<string, string>, use: (app: RunningApp) => Promise<T>): Promise<{ app: RunningApp; value: T }> {
  const app = await startApp('use-express.cjs', { env });
  try {
    return { app, value: await use(app) };
  } finally {
    await app.stop();
  }
}

describe('a faulty collector never slows the app, and is reported once when it fails and once when it recovers', () => {
  let healthyTotalMs = 0;

  it('baseline: a healthy collector', async () => {
    await withReceiver(async (receiver) => {
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'healthy' }, async (app) => {
        await hammer(app.url, 20);
        healthyTotalMs = (await hammer(app.url, 300)).totalMs;
      });
      assert.equal(app.stderr(), '');
    });
  });

  const faults: { name: string; env: (receiver: OtlpReceiver, deadPort: number) => Record<string, string>; setUp?: (receiver: OtlpReceiver) => void; reason: RegExp }[] = [
    { name: 'down (connection refused)', env: (_r, deadPort) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }), reason: /^14 UNAVAILABLE/ },
    { name: 'slow (accepts, answers after 30 s)', env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcEndpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' }), setUp: (r) => r.setBehaviour({ delayMs: 30_000 }), reason: /^4 DEADLINE_EXCEEDED/ },
    { name: 'answering UNAVAILABLE', env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcEndpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }), setUp: (r) => r.setBehaviour({ grpcStatus: 14 }), reason: /^14 UNAVAILABLE: injected failure/ },
    { name: 'answering RESOURCE_EXHAUSTED', env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcEndpoint }), setUp: (r) => r.setBehaviour({ grpcStatus: 8 }), reason: /^8 RESOURCE_EXHAUSTED: injected failure/ },
    { name: 'answering HTTP 503 (OTLP/HTTP)', env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }), setUp: (r) => r.setBehaviour({ httpStatus: 503 }), reason: /./ },
  ];

  for (const fault of faults) {
    it(`collector ${fault.name}: same throughput, no request waits, one stderr line with the reason`, async () => {
      await withReceiver(async (receiver) => {
        fault.setUp?.(receiver);
        const { app, value } = await withApp({ ...fault.env(receiver, await freePort()), OTEL_SERVICE_NAME: 'faulty' }, async (app) => {
          await hammer(app.url, 20);
          const result = await hammer(app.url, 300);
          await waitForLine(app, FAILED);
          await hammer(app.url, 50);
          return result;
        });
        assert.ok(value.slowestMs < 1_000, `slowest request took ${value.slowestMs} ms`);
        assert.ok(value.totalMs < healthyTotalMs * 3 + 1_000, `300 requests took ${value.totalMs} ms, ${healthyTotalMs} ms with a healthy collector`);
        const printed = lines(app);
        assert.equal(printed.length, 1, `one line, not one per batch or span:\n${app.stderr()}`);
        assert.match(FAILED.exec(printed[0]!)![1]!, fault.reason);
      });
    });
  }

  it('transient UNAVAILABLE is retried with backoff: the spans arrive and nothing is printed', async () => {
    await withReceiver(async (receiver) => {
      receiver.setBehaviour({ grpcStatus: 14 });
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'transient' }, async (app) => {
        await get(`${app.url}/users/1`);
        while (receiver.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        const firstAttemptAt = Date.now();
        // Let the receiver answer the first attempt with the fault before it turns healthy.
        await new Promise((resolve) => setTimeout(resolve, 200));
        receiver.setBehaviour({});
        await receiver.waitForSpans((spans) => spans.some((s) => s.attributes['http.route'] === '/users/:id'), 10_000);
        const retryAfterMs = Date.now() - firstAttemptAt;
        assert.ok(retryAfterMs >= 700, `retried after ${retryAfterMs} ms: backoff starts at 1 s ± 20 %`);
      });
      assert.equal(app.stderr(), '');
    });
  });

  it('RESOURCE_EXHAUSTED is retried only with RetryInfo, after the delay the collector asked for', async () => {
    await withReceiver(async (receiver) => {
      receiver.setBehaviour({ grpcStatus: 8, retryAfterSeconds: 2 });
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'retry-info' }, async (app) => {
        await get(`${app.url}/users/1`);
        while (receiver.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        const firstAttemptAt = Date.now();
        // Let the receiver answer the first attempt with the fault before it turns healthy.
        await new Promise((resolve) => setTimeout(resolve, 200));
        receiver.setBehaviour({});
        await receiver.waitForSpans((spans) => spans.length > 0, 10_000);
        const retryAfterMs = Date.now() - firstAttemptAt;
        assert.ok(retryAfterMs >= 1_900, `retried after ${retryAfterMs} ms; RetryInfo said 2 s`);
      });
      assert.equal(app.stderr(), '');
    });
  });

  it('OTLP/HTTP 503 with Retry-After is retried after that delay (upstream retry, checked end to end)', async () => {
    await withReceiver(async (receiver) => {
      receiver.setBehaviour({ httpStatus: 503, retryAfterSeconds: 2 });
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_SERVICE_NAME: 'retry-after' }, async (app) => {
        await get(`${app.url}/users/1`);
        while (receiver.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        const firstAttemptAt = Date.now();
        // Let the receiver answer the first attempt with the fault before it turns healthy.
        await new Promise((resolve) => setTimeout(resolve, 200));
        receiver.setBehaviour({});
        await receiver.waitForSpans((spans) => spans.length > 0, 10_000);
        assert.ok(Date.now() - firstAttemptAt >= 1_900, `retried after ${Date.now() - firstAttemptAt} ms; Retry-After said 2 s`);
      });
      assert.equal(app.stderr(), '');
    });
  });

  it('a non-retryable answer (OTLP/HTTP 400) is not retried', async () => {
    await withReceiver(async (receiver) => {
      receiver.setBehaviour({ httpStatus: 400 });
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_SERVICE_NAME: 'bad-request' }, async (app) => {
        await get(`${app.url}/users/1`);
        await waitForLine(app, FAILED);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      });
      const batches = receiver.requests.length;
      assert.ok(batches >= 1 && batches <= 3, `${batches} requests: one per batch, no retries`);
      assert.equal(lines(app).length, 1, app.stderr());
    });
  });

  it('a flapping collector: one line per outage and one per recovery, whose counts add up to the spans lost', async () => {
    await withReceiver(async (receiver) => {
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'flapping', OTEL_EXPORTER_OTLP_TIMEOUT: '500' }, async (app) => {
        for (let cycle = 1; cycle <= 2; cycle++) {
          receiver.setBehaviour({ grpcStatus: 14 });
          await hammer(app.url, 30);
          await waitForLine(app, FAILED, cycle);
          await hammer(app.url, 30);
          receiver.setBehaviour({});
          await hammer(app.url, 5);
          await waitForLine(app, RECOVERED, cycle);
        }
      });
      const printed = lines(app);
      assert.equal(printed.filter((line) => FAILED.test(line)).length, 2, app.stderr());
      assert.equal(printed.filter((line) => RECOVERED.test(line)).length, 2, app.stderr());
      assert.equal(printed.length, 4, app.stderr());
      const reportedDropped = printed.map((line) => Number(RECOVERED.exec(line)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
      const refused = receiver.requests.reduce((sum, request) => sum + request.spanCount, 0) - receiver.spans.length;
      assert.ok(refused > 0);
      assert.equal(reportedDropped, refused, 'every span the collector refused is counted, none twice');
    });
  });

  it('the queue bound holds while the collector hangs, and the recovery line counts every span not delivered', async () => {
    await withReceiver(async (receiver) => {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'bounded', OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_BSP_MAX_QUEUE_SIZE: '50', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10' };
      let perRequest = 0;
      const { app } = await withApp(env, async (app) => {
        await get(`${app.url}/users/warm-up`);
        await receiver.waitForSpans((spans) => spans.some((s) => s.kind === 'SERVER'));
        await new Promise((resolve) => setTimeout(resolve, 300));
        perRequest = receiver.spans.length;
        receiver.reset();
        receiver.setBehaviour({ delayMs: 30_000 });
        await hammer(app.url, 400);
        await waitForLine(app, FAILED);
        receiver.setBehaviour({});
        // The outage may have emptied the queue; one more request gives the exporter something to succeed with.
        await hammer(app.url, 1);
        await waitForLine(app, RECOVERED, 1, 15_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
      });
      const dropped = Number(RECOVERED.exec(lines(app).find((line) => RECOVERED.test(line))!)![1]);
      assert.ok(receiver.spans.length <= 50 + 10, `${receiver.spans.length} spans held through the outage: at most the queue plus one batch`);
      assert.equal(receiver.spans.length + dropped, 401 * perRequest, `${receiver.spans.length} delivered + ${dropped} reported dropped = every span of the 401 requests`);
      assert.equal(lines(app).length, 2, app.stderr());
    });
  });

  it('a collector that works but cannot keep up: a line about the full queue with the count, not one per batch', async () => {
    await withReceiver(async (receiver) => {
      receiver.setBehaviour({ delayMs: 300 });
      const { app } = await withApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'overloaded', OTEL_BSP_MAX_QUEUE_SIZE: '20', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10' }, async (app) => {
        await hammer(app.url, 300);
        await waitForLine(app, /span queue/);
        await hammer(app.url, 300);
        await new Promise((resolve) => setTimeout(resolve, 700));
      });
      // One line at the first export after the drops, one with the rest at the exit flush: never one per batch.
      const printed = lines(app);
      assert.ok(printed.length >= 1 && printed.length <= 2, app.stderr());
      for (const line of printed) assert.match(line, /^@acme\/otel-register: the span queue \(OTEL_BSP_MAX_QUEUE_SIZE=20\) is full: exports to 127\.0\.0\.1:\d+ \(OTLP grpc\) cannot keep up; \d+ spans dropped$/);
    });
  });
});
