import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../../src/config/index.ts';

function read(env: Record<string, string>) {
  const warnings: string[] = [];
  const config = readConfig(env, (line) => warnings.push(line));
  return { config, warnings };
}

describe('metrics configuration', () => {
  it('defaults: otlp over gRPC with gzip every 60 s, 30 s timeout, cumulative, explicit buckets, Prometheus on localhost:9464', () => {
    const { config, warnings } = read({});
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.metrics.exporters, ['otlp']);
    assert.equal(config.metrics.intervalMs, 60_000);
    assert.equal(config.metrics.timeoutMs, 30_000);
    assert.equal(config.metrics.temporality, 'cumulative');
    assert.equal(config.metrics.histogramAggregation, 'explicit_bucket_histogram');
    assert.deepEqual([config.metrics.otlp.protocol, config.metrics.otlp.url, config.metrics.otlp.compression], ['grpc', 'http://localhost:4317', 'gzip']);
    assert.deepEqual(config.metrics.prometheus, { host: 'localhost', port: 9464 });
  });

  it('the _METRICS_ variables win over the generic ones, which apply to both signals; HTTP gets /v1/metrics appended', () => {
    const { config } = read({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1234',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
    });
    assert.equal(config.otlp.url, 'http://c:4318/v1/traces');
    assert.equal(config.metrics.otlp.url, 'http://c:4318/v1/metrics');
    assert.deepEqual(config.metrics.otlp.headers, { a: '1', b: '3' });
    assert.deepEqual(config.otlp.headers, { a: '1', b: '2' });
    assert.equal(config.metrics.otlp.timeoutMs, 1234);
    assert.equal(config.otlp.timeoutMs, 10_000);
    assert.equal(config.metrics.otlp.compression, 'none');
    assert.equal(config.otlp.compression, 'gzip');
    assert.equal(read({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }).config.metrics.otlp.url, 'http://localhost:4318/v1/metrics');
    assert.equal(read({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:1/custom', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }).config.metrics.otlp.url, 'http://m:1/custom');
  });

  it('comma lists, none, and the settings of an exporter that is off are not warned about', () => {
    assert.deepEqual(read({ OTEL_METRICS_EXPORTER: 'console, prometheus,console' }).config.metrics.exporters, ['console', 'prometheus']);
    assert.deepEqual(read({ OTEL_METRICS_EXPORTER: 'none' }).config.metrics.exporters, []);
    assert.deepEqual(read({ OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'nope', OTEL_EXPORTER_PROMETHEUS_PORT: 'x' }).warnings, []);
    assert.equal(read({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '9999' }).config.metrics.prometheus.port, 9999);
    const { config, warnings } = read({ OTEL_METRICS_EXPORTER: 'otlp,statsd' });
    assert.deepEqual(config.metrics.exporters, ['otlp']);
    assert.equal(warnings.length, 1);
  });

  it('unset, OTEL_METRICS_EXPORTER follows the spans: otlp when they go to OTLP, none when they stay on the console or are not exported', () => {
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'console' }).config.metrics.exporters, []);
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'none' }).config.metrics.exporters, []);
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'console,otlp' }).config.metrics.exporters, ['otlp']);
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp' }).config.metrics.exporters, ['otlp']);
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'console' }).config.metrics.exporters, ['console']);
  });

  it('a bad generic variable read for both signals is one line, not two', () => {
    const { warnings } = read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'udp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.example:4317' });
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, /OTEL_EXPORTER_OTLP_PROTOCOL="udp"/);
    assert.match(warnings[1]!, /without TLS/);
  });

  it('a timeout longer than the interval is cut to the interval (the SDK reader refuses it), silently when only the interval was set', () => {
    assert.deepEqual(read({ OTEL_METRIC_EXPORT_INTERVAL: '1000' }), { ...read({ OTEL_METRIC_EXPORT_INTERVAL: '1000' }), warnings: [] });
    assert.equal(read({ OTEL_METRIC_EXPORT_INTERVAL: '1000' }).config.metrics.timeoutMs, 1000);
    assert.equal(read({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '2000' }).config.metrics.timeoutMs, 2000);
    const { config, warnings } = read({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' });
    assert.equal(config.metrics.timeoutMs, 5000);
    assert.deepEqual(warnings, ['OTEL_METRIC_EXPORT_TIMEOUT=9000 is longer than OTEL_METRIC_EXPORT_INTERVAL=5000; using 5000']);
  });
});
