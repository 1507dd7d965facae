import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../../src/config/index.ts';

function read(env: Record<string, string>) {
  const warnings: string[] = [];
  const config = readConfig(env, (line) => warnings.push(line));
  return { config, warnings };
}

describe('logs configuration', () => {
  it('defaults: otlp over grpc with gzip, the spec BLRP settings, no limits of its own', () => {
    const { config, warnings } = read({});
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.logs.exporters, ['otlp']);
    assert.equal(config.logs.otlp.url, 'http://localhost:4317');
    assert.equal(config.logs.otlp.compression, 'gzip');
    assert.deepEqual(config.logs.batch, { scheduledDelayMs: 1000, exportTimeoutMs: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    assert.deepEqual(config.logs.limits, { attributeValueLengthLimit: undefined, attributeCountLimit: undefined });
  });

  it('OTLP/HTTP appends /v1/logs to the generic endpoint, not to OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', () => {
    const generic = read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config;
    assert.equal(generic.logs.otlp.url, 'http://c:4318/v1/logs');
    assert.equal(generic.otlp.url, 'http://c:4318/v1/traces');
    assert.equal(read({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:1/custom' }).config.logs.otlp.url, 'http://c:1/custom');
    assert.equal(read({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }).config.logs.otlp.url, 'http://localhost:4318/v1/logs');
  });

  it('each OTEL_EXPORTER_OTLP_LOGS_* wins over its generic variable and leaves the traces alone', () => {
    const { config } = read({
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'b=2',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1234',
    });
    assert.deepEqual(config.logs.otlp.headers, { a: '1', b: '2' });
    assert.deepEqual(config.otlp.headers, { a: '1' });
    assert.equal(config.logs.otlp.compression, 'none');
    assert.equal(config.otlp.compression, 'gzip');
    assert.equal(config.logs.otlp.timeoutMs, 1234);
  });

  it('a bad generic value is said once, not once per signal', () => {
    assert.equal(read({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }).warnings.length, 1);
  });

  it('OTEL_LOGS_EXPORTER: comma lists, none, and the logs variables quiet when otlp is off', () => {
    assert.deepEqual(read({ OTEL_LOGS_EXPORTER: 'console,otlp' }).config.logs.exporters, ['console', 'otlp']);
    assert.deepEqual(read({ OTEL_LOGS_EXPORTER: 'none' }).config.logs.exporters, []);
    assert.deepEqual(read({ OTEL_LOGS_EXPORTER: 'console', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'carrier-pigeon' }).warnings, []);
  });

  it('limits fall back to the general OTEL_ATTRIBUTE_* ones; the log record ones win', () => {
    assert.deepEqual(read({ OTEL_ATTRIBUTE_COUNT_LIMIT: '5', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '7' }).config.logs.limits, { attributeCountLimit: 5, attributeValueLengthLimit: 7 });
    assert.deepEqual(read({ OTEL_ATTRIBUTE_COUNT_LIMIT: '5', OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '2', OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '3' }).config.logs.limits, {
      attributeCountLimit: 2,
      attributeValueLengthLimit: 3,
    });
  });

  it('a batch larger than the queue is cut to it, with one line', () => {
    const { config, warnings } = read({ OTEL_BLRP_MAX_QUEUE_SIZE: '100', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '500' });
    assert.equal(config.logs.batch.maxExportBatchSize, 100);
    assert.equal(warnings.length, 1);
  });
});
