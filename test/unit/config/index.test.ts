import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../../src/config/index.ts';

function read(env: Record<string, string>) {
  const warnings: string[] = [];
  const config = readConfig(env, (line) => warnings.push(line));
  return { config, warnings };
}

describe('readConfig', () => {
  it('defaults: otlp over grpc with gzip, tracecontext+baggage, parent-based always-on, noisy instrumentations off', () => {
    const { config, warnings } = read({});
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.exporters, ['otlp']);
    assert.equal(config.otlp.protocol, 'grpc');
    assert.equal(config.otlp.url, 'http://localhost:4317');
    assert.equal(config.otlp.compression, 'gzip');
    assert.deepEqual(config.propagators, ['tracecontext', 'baggage']);
    assert.equal(config.sampler, 'parentbased_always_on');
    for (const noisy of ['fs', 'dns', 'net']) assert.ok(!config.instrumentations.includes(noisy), noisy);
    for (const wanted of ['http', 'undici', 'express', 'fastify', 'koa', 'pg', 'ioredis', 'redis']) assert.ok(config.instrumentations.includes(wanted), wanted);
    assert.ok(Object.isFrozen(config));
  });

  it('OTLP/HTTP appends /v1/traces to the generic endpoint but not to the signal-specific one', () => {
    assert.equal(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config.otlp.url, 'http://c:4318/v1/traces');
    assert.equal(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).config.otlp.url, 'http://c:4318/v1/traces');
    assert.equal(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:1/custom' }).config.otlp.url, 'http://c:1/custom');
    assert.equal(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).config.otlp.url, 'http://localhost:4318/v1/traces');
  });

  it('signal-specific OTLP variables win over generic ones', () => {
    const { config } = read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' });
    assert.equal(config.otlp.protocol, 'http/json');
    assert.equal(config.otlp.compression, 'none');
  });

  it('OTEL_TRACES_EXPORTER: none means no exporter; a comma list keeps the known ones', () => {
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'none' }).config.exporters, []);
    const { config, warnings } = read({ OTEL_TRACES_EXPORTER: 'Console, jaeger ,otlp' });
    assert.deepEqual(config.exporters, ['console', 'otlp']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /OTEL_TRACES_EXPORTER: unknown name "jaeger" ignored/);
    assert.deepEqual(read({ OTEL_TRACES_EXPORTER: 'zipkin' }).config.exporters, ['otlp']);
  });

  it('OTEL_PROPAGATORS: case-insensitive, aliases, unknown names warned about without dropping the others, none', () => {
    const { config, warnings } = read({ OTEL_PROPAGATORS: 'TraceContext,bogus,kontur,xcloud' });
    assert.deepEqual(config.propagators, ['tracecontext', 'kontur', 'cloudtrace']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /"bogus"/);
    assert.deepEqual(read({ OTEL_PROPAGATORS: 'none' }).config.propagators, []);
  });

  it('samplers and their ratio', () => {
    assert.deepEqual(
      (({ sampler, samplerRatio }) => ({ sampler, samplerRatio }))(read({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).config),
      { sampler: 'parentbased_traceidratio', samplerRatio: 0.25 },
    );
    for (const bad of ['-0.1', '1.01', 'NaN', 'half', 'Infinity']) {
      const { config, warnings } = read({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: bad });
      assert.equal(config.samplerRatio, 1, bad);
      assert.equal(warnings.length, 1, bad);
    }
  });

  it('instrumentations: enabled list opts fs in, disabled list removes, package names accepted', () => {
    const { config, warnings } = read({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,fs,@opentelemetry/instrumentation-pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' });
    assert.deepEqual(config.instrumentations, ['http', 'fs']);
    assert.deepEqual(warnings, []);
  });

  it('span limits: specific over general, invalid ignored with a warning', () => {
    const { config, warnings } = read({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100', OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '50', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: 'lots' });
    assert.equal(config.spanLimits.attributeValueLengthLimit, 50);
    assert.equal(config.spanLimits.attributeCountLimit, undefined);
    assert.equal(warnings.length, 1);
  });

  it('batch sizes: a batch larger than the queue is cut to the queue', () => {
    const { config, warnings } = read({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500' });
    assert.equal(config.batch.maxExportBatchSize, 100);
    assert.equal(warnings.length, 1);
  });

  it('shutdown flush is bounded by OTEL_BSP_EXPORT_TIMEOUT and never above 5 s', () => {
    assert.equal(read({}).config.shutdownTimeoutMs, 5000);
    assert.equal(read({ OTEL_BSP_EXPORT_TIMEOUT: '1500' }).config.shutdownTimeoutMs, 1500);
  });

  it('OTLP headers: percent-decoded, malformed entries named by key or position, values never in warnings', () => {
    const { config, warnings } = read({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20tok3n, =novalue-s3cret,x-ok=1,bad key=s3cret2,x-pct=%E0%A4%A' });
    assert.deepEqual({ ...config.otlp.headers }, { authorization: 'Bearer tok3n', 'x-ok': '1' });
    assert.equal(warnings.length, 3);
    for (const warning of warnings) assert.doesNotMatch(warning, /s3cret|tok3n|novalue/);
  });

  it('endpoints: non-http schemes, garbage and embedded credentials fall back to the default', () => {
    for (const bad of ['collector:4317', 'ftp://c', 'http://[x', 'https://user:pa55@c:4317']) {
      const { config, warnings } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: bad });
      assert.equal(config.otlp.url, 'http://localhost:4317', bad);
      assert.equal(warnings.length, 1, bad);
      assert.doesNotMatch(warnings[0]!, /pa55/);
    }
  });

  it('warns once that a plain-http endpoint off this machine is unencrypted', () => {
    assert.match(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4317' }).warnings[0]!, /without TLS/);
    assert.deepEqual(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.internal:4317' }).warnings, []);
    assert.deepEqual(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' }).warnings, []);
  });

  it('resource attributes: percent-decoded; cloud hints picked up', () => {
    const { config } = read({ OTEL_RESOURCE_ATTRIBUTES: 'team=a%2Cb,deployment.environment=prod', K_SERVICE: 'polls' });
    assert.deepEqual({ ...config.resourceAttributes }, { team: 'a,b', 'deployment.environment': 'prod' });
    assert.equal(config.cloudHints.K_SERVICE, 'polls');
  });
});
