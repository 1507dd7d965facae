import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startApp } from '../support/processes.ts';
import { freePort, startPrometheus } from '../support/services.ts';

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  let last: T = await read();
  for (const until = Date.now() + timeoutMs; !ok(last) && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    last = await read();
  }
  return last;
}

describe('OTEL_METRICS_EXPORTER=prometheus', () => {
  it('serves /metrics on OTEL_EXPORTER_PROMETHEUS_HOST:PORT, and a real Prometheus server scraping it sees the request count per route; its scrapes are not counted as requests', async () => {
    const metricsPort = await freePort();
    const app = await startApp('use-express.cjs', {
      env: { OTEL_SERVICE_NAME: 'prom-app', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) },
    });
    const prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      const count = 'http_server_request_duration_count{http_route="/users/:id",job="app"}';
      const result = await eventually(
        () => prometheus.query(count),
        (samples) => samples.length === 1 && samples[0]!.value[1] === '5',
      );
      assert.equal(result.length, 1, `Prometheus has ${JSON.stringify(result)}`);
      assert.equal(result[0]!.value[1], '5');
      assert.equal(result[0]!.metric.http_request_method, 'GET');
      assert.equal(result[0]!.metric.http_response_status_code, '200');
      // Several scrapes later, still the five requests the app served.
      const up = await eventually(() => prometheus.query('up{job="app"}'), (samples) => samples[0]?.value[1] === '1');
      assert.equal(up[0]!.value[1], '1', 'the target is up');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal((await prometheus.query(count))[0]!.value[1], '5', 'scrapes of /metrics are not app requests');
      assert.equal((await prometheus.query('sum(http_server_request_duration_count{job="app"})'))[0]!.value[1], '5');
      const runtime = await prometheus.query('nodejs_eventloop_utilization{job="app"}');
      assert.equal(runtime.length, 1, 'runtime metrics are scraped too');
      const bucket = await prometheus.query('http_server_request_duration_bucket{job="app",http_route="/users/:id",le="10"}');
      assert.equal(bucket[0]!.value[1], '5', 'semconv bucket boundaries');
    } finally {
      await prometheus.stop();
      await app.stop();
    }
    assert.equal(app.stderr(), '');
  });

  it('a port already in use is one line, and the app runs on', async () => {
    const metricsPort = await freePort();
    const first = await startApp('use-express.cjs', { env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' } });
    const second = await startApp('use-express.cjs', { env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' } });
    try {
      assert.equal((await get(`${second.url}/users/1`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await first.stop();
      await second.stop();
    }
    assert.equal(second.stderr(), `@acme/otel-register: the Prometheus endpoint could not listen on 127.0.0.1:${metricsPort} (EADDRINUSE); metrics are not served\n`);
  });
});
