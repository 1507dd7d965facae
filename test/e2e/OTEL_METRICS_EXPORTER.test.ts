import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetricPoint } from '../support/otlp-receiver.ts';
import { runScript, startApp } from '../support/processes.ts';

const SEMCONV_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const RUNTIME_METRICS = ['nodejs.eventloop.delay.p99', 'nodejs.eventloop.utilization', 'v8js.memory.heap.used'];

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
beforeEach(() => receiver.reset());
after(async () => {
  await receiver?.close();
});

function ofService(service: string, name: string, points: readonly ReceivedMetricPoint[] = receiver.metrics): ReceivedMetricPoint[] {
  return points.filter((point) => point.name === name && point.resource['service.name'] === service);
}

/** Cumulative points: the last one per attribute set holds the total. */
function latestCount(points: readonly ReceivedMetricPoint[], match: (attributes: Record<string, unknown>) => boolean): number | undefined {
  const matching = points.filter((point) => match(point.attributes));
  return matching.at(-1)?.count;
}

describe('OTEL_METRICS_EXPORTER', () => {
  it('by default (otlp over gRPC, gzip): http.server.request.duration per route in seconds, cumulative, one count per request served, and Node runtime metrics', async () => {
    const app = await startApp('use-express.cjs', {
      env: { OTEL_SERVICE_NAME: 'metrics-default', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '300' },
    });
    try {
      for (let i = 0; i < 7; i++) assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      assert.equal((await get(`${app.url}/nowhere`)).status, 404);
      await receiver.waitForMetrics(
        (points) =>
          latestCount(ofService('metrics-default', 'http.server.request.duration', points), (a) => a['http.route'] === '/users/:id') === 7 &&
          RUNTIME_METRICS.every((name) => ofService('metrics-default', name, points).length > 0),
      );
    } finally {
      await app.stop();
    }
    const server = ofService('metrics-default', 'http.server.request.duration');
    const users = server.filter((point) => point.attributes['http.route'] === '/users/:id').at(-1)!;
    assert.equal(users.unit, 's');
    assert.equal(users.type, 'histogram');
    assert.equal(users.temporality, 'CUMULATIVE');
    assert.deepEqual(users.explicitBounds, SEMCONV_BUCKETS);
    assert.equal(
      users.bucketCounts!.reduce((a, b) => a + b, 0),
      7,
    );
    assert.ok(users.sum! > 0 && users.sum! < 7 * 5, `sum of seconds, not milliseconds: ${users.sum}`);
    assert.deepEqual(
      { ...users.attributes },
      { 'http.request.method': 'GET', 'url.scheme': 'http', 'http.response.status_code': 200, 'http.route': '/users/:id', 'network.protocol.version': '1.1' },
    );
    assert.equal(latestCount(server, (a) => a['http.response.status_code'] === 404), 1, 'the 404 is counted too, under its own attributes');
    const metricRequests = receiver.metricRequests;
    assert.ok(metricRequests.length > 0 && metricRequests.every((request) => request.protocol === 'grpc' && request.compressed && request.encoding === 'gzip'));
    assert.equal(ofService('metrics-default', 'http.server.request.duration').filter((p) => p.scope.name === '@opentelemetry/instrumentation-http').length, 0, 'upstream does not measure them a second time');
  });

  for (const [framework, fixture, path, route] of [
    ['Fastify', 'use-fastify.cjs', '/items/', '/items/:id'],
    ['Koa with @koa/router (ES module)', 'use-koa.mjs', '/orders/', '/orders/:id'],
  ] as const) {
    it(`${framework}: http.server.request.duration carries the route the framework matched, one count per request`, async () => {
      const service = `metrics-${fixture}`;
      const app = await startApp(fixture, { env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '300' } });
      try {
        for (let i = 0; i < 4; i++) assert.equal((await get(`${app.url}${path}${i}`)).status, 200);
        await receiver.waitForMetrics((points) => latestCount(ofService(service, 'http.server.request.duration', points), (a) => a['http.route'] === route) === 4);
      } finally {
        await app.stop();
      }
      const routes = new Set(ofService(service, 'http.server.request.duration').map((p) => p.attributes['http.route']));
      assert.deepEqual([...routes], [route], 'every request under its route, none without');
    });
  }

  it('every request counts whatever the sampler drops: OTEL_TRACES_SAMPLER=traceidratio 0.3 exports fewer SERVER spans, the metrics count all requests', async () => {
    const service = 'metrics-sampled';
    const app = await startApp('use-express.cjs', {
      env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '300', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.3' },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(`${app.url}/chain`)).status, 200);
      for (let i = 0; i < 20; i++) assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      await receiver.waitForMetrics((points) => latestCount(ofService(service, 'http.server.request.duration', points), (a) => a['http.route'] === '/users/:id') === 23);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await app.stop();
    }
    const exported = receiver.spans.filter((span) => span.resource['service.name'] === service && span.kind === 'SERVER');
    assert.ok(exported.length < 26, `${exported.length} SERVER spans exported: only the sampled ones`);
    assert.ok(receiver.spans.filter((span) => span.resource['service.name'] === service).every((span) => (span.flags & 1) === 1), 'no unsampled span exported');
    assert.equal(latestCount(ofService(service, 'http.client.request.duration'), () => true), 3, 'client calls counted too');
    assert.equal(latestCount(ofService(service, 'http.server.request.duration'), (a) => a['http.route'] === '/chain'), 3);
  });

  it('http.client.request.duration for outgoing fetch calls, with server.address and server.port', async () => {
    const app = await startApp('use-express.cjs', {
      env: { OTEL_SERVICE_NAME: 'metrics-client', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '300' },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(`${app.url}/chain`)).status, 200);
      await receiver.waitForMetrics((points) => latestCount(ofService('metrics-client', 'http.client.request.duration', points), () => true) === 3);
    } finally {
      await app.stop();
    }
    const client = ofService('metrics-client', 'http.client.request.duration').at(-1)!;
    assert.equal(client.unit, 's');
    assert.deepEqual(
      { ...client.attributes },
      { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': app.port, 'url.scheme': 'http', 'http.response.status_code': 200, 'network.protocol.version': '1.1' },
    );
    // Each /chain call served itself one /users/42 too: 3 + 3 server requests.
    const server = ofService('metrics-client', 'http.server.request.duration');
    assert.equal(latestCount(server, (a) => a['http.route'] === '/chain'), 3);
    assert.equal(latestCount(server, (a) => a['http.route'] === '/users/:id'), 3);
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta over ${protocol}: per-interval counts that add up to the requests served`, async () => {
      const app = await startApp('use-express.cjs', {
        env: {
          OTEL_SERVICE_NAME: `metrics-delta-${protocol}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.httpEndpoint}/v1/metrics`,
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
          OTEL_METRIC_EXPORT_INTERVAL: '200',
        },
      });
      const total = () =>
        ofService(`metrics-delta-${protocol}`, 'http.server.request.duration')
          .filter((p) => p.attributes['http.route'] === '/users/:id')
          .reduce((sum, p) => sum + (p.count ?? 0), 0);
      try {
        for (let i = 0; i < 4; i++) await get(`${app.url}/users/${i}`);
        await receiver.waitForMetrics(() => total() >= 4);
        for (let i = 0; i < 5; i++) await get(`${app.url}/users/${i}`);
        await receiver.waitForMetrics(() => total() >= 9);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await app.stop();
      }
      const points = ofService(`metrics-delta-${protocol}`, 'http.server.request.duration');
      assert.ok(points.every((p) => p.temporality === 'DELTA'));
      assert.ok(points.filter((p) => p.attributes['http.route'] === '/users/:id').length >= 2, 'counted in more than one interval');
      assert.equal(total(), 9, 'no request counted twice or lost');
      assert.ok(receiver.metricRequests.some((r) => r.protocol === protocol && r.encoding === 'gzip'));
      // Up-down counters stay cumulative under delta (OTLP exporter spec); gauges have none.
      assert.ok(ofService(`metrics-delta-${protocol}`, 'nodejs.eventloop.utilization').every((p) => p.temporality === undefined));
    });
  }

  it('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram: the HTTP durations as exponential histograms, one count per request', async () => {
    // The durations are then aggregated by sdk-metrics, not by our span processor (which makes explicit buckets only).
    const service = 'metrics-exponential';
    const app = await startApp('use-express.cjs', {
      env: {
        OTEL_SERVICE_NAME: service,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
        OTEL_METRIC_EXPORT_INTERVAL: '300',
      },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      await receiver.waitForMetrics((points) => latestCount(ofService(service, 'http.server.request.duration', points), (a) => a['http.route'] === '/users/:id') === 3);
    } finally {
      await app.stop();
    }
    const points = ofService(service, 'http.server.request.duration');
    assert.ok(points.length > 0 && points.every((p) => p.type === 'exponential_histogram' && p.unit === 's' && p.scope.name === '@acme/otel-register'), points.map((p) => `${p.type} ${p.unit} ${p.scope.name}`).join(', '));
  });

  it('SIGTERM: the last collection is exported before the process ends, with the default 60 s interval', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_SERVICE_NAME: 'metrics-sigterm', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint } });
    for (let i = 0; i < 3; i++) await get(`${app.url}/users/${i}`);
    const started = Date.now();
    assert.deepEqual(await app.stop('SIGTERM'), { code: null, signal: 'SIGTERM' });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(latestCount(ofService('metrics-sigterm', 'http.server.request.duration'), (a) => a['http.route'] === '/users/:id'), 3, app.stderr());
  });

  for (const [how, args, expected] of [
    ['process.exit(3)', ['exit', '3'], { code: 3, signal: null }],
    ['an uncaught exception', ['throw'], { code: 1, signal: null }],
  ] as const) {
    it(`${how}: the last collection (node:http server and client durations) is exported in the exit flush, exit status unchanged`, async () => {
      const service = `metrics-exit-${args[0]}`;
      const result = await runScript('exit-after-request.cjs', { args: [...args], env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint } });
      assert.deepEqual({ code: result.code, signal: result.signal }, expected, result.stderr);
      assert.doesNotMatch(result.stderr, /could not be exported/);
      const server = ofService(service, 'http.server.request.duration');
      const client = ofService(service, 'http.client.request.duration');
      assert.equal(latestCount(server, (a) => a['http.response.status_code'] === 200), 1, `server points: ${server.map((p) => `${JSON.stringify(p.attributes)} count=${p.count}`).join('; ') || 'none'}; stderr: ${result.stderr}`);
      assert.equal(latestCount(client, (a) => a['server.address'] === '127.0.0.1'), 1);
      assert.ok(receiver.spans.some((span) => span.resource['service.name'] === service && span.kind === 'SERVER'), 'the spans left too');
    });
  }

  it('a collector that refuses metrics: one line when it starts failing, one with the count of lost points when it works again', async () => {
    receiver.setBehaviour({ grpcStatus: 14, grpcMessage: 'collector restarting' });
    const app = await startApp('use-express.cjs', {
      env: { OTEL_SERVICE_NAME: 'metrics-outage', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '200' },
    });
    try {
      await get(`${app.url}/users/1`);
      await waitFor(() => /exporting metrics to .* failed/.test(app.stderr()), app);
      await new Promise((resolve) => setTimeout(resolve, 600));
      receiver.setBehaviour({});
      await waitFor(() => /works again/.test(app.stderr()), app);
      await receiver.waitForMetrics((points) => latestCount(ofService('metrics-outage', 'http.server.request.duration', points), () => true) === 1);
    } finally {
      await app.stop();
    }
    const lines = app.stderr().trim().split('\n');
    assert.equal(lines.length, 2, app.stderr());
    assert.match(lines[0]!, /^@acme\/otel-register: exporting metrics to 127\.0\.0\.1:\d+ \(OTLP grpc\) failed \(14 UNAVAILABLE: collector restarting\); metric points are dropped until it works again$/);
    assert.match(lines[1]!, /^@acme\/otel-register: exporting metrics to 127\.0\.0\.1:\d+ \(OTLP grpc\) works again; (\d+) metric points were dropped while it failed$/);
    assert.ok(Number(/(\d+) metric points were dropped/.exec(lines[1]!)![1]) > 0);
  });

  it('none: no metrics leave, traces still do', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_SERVICE_NAME: 'metrics-none', OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '100' } });
    try {
      await get(`${app.url}/users/1`);
      await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === 'metrics-none' && s.kind === 'SERVER'));
      await new Promise((resolve) => setTimeout(resolve, 400));
    } finally {
      await app.stop();
    }
    assert.equal(receiver.metricRequests.length, 0);
  });

  it('console: a compact table per collection, no raw object dumps', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_METRICS_EXPORTER: 'console', OTEL_TRACES_EXPORTER: 'none', OTEL_METRIC_EXPORT_INTERVAL: '300' } });
    for (let i = 0; i < 2; i++) await get(`${app.url}/users/${i}`);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await app.stop();
    const out = app.stdout();
    assert.match(out, /^metric +attributes +value$/m);
    assert.match(out, /^http\.server\.request\.duration s +http\.request\.method=GET url\.scheme=http http\.response\.status_code=200 http\.route=\/users\/:id network\.protocol\.version=1\.1 +count=2 sum=[\d.e-]+ buckets=\[(≤[\d.]+:\d+ ?)+\]$/m);
    assert.match(out, /^nodejs\.eventloop\.utilization 1 +- +[\d.e-]+$/m);
    assert.doesNotMatch(out, /descriptor:|dataPoints:|\{\s*resource:/, 'not a raw object dump');
  });
});

async function waitFor(condition: () => boolean, app: { stderr(): string }, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out; stderr so far:\n${app.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
