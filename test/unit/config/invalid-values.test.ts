import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../../src/config/index.ts';
import { isSdkDisabled } from '../../../src/config/sdk-disabled.ts';

function read(env: Record<string, string>) {
  const warnings: string[] = [];
  const config = readConfig(env, (line) => warnings.push(line));
  return { config, warnings };
}

const defaults = read({}).config;

/** Every variable we read, an invalid value for it, and the part of the config that must stay at its default. */
const CLIENT_PEM = new URL('../../certs/client.pem', import.meta.url).pathname;
const CASES: [variable: string, value: string, pick: (c: typeof defaults) => unknown, extra?: Record<string, string>][] = [
  ['OTEL_LOG_LEVEL', 'chatty', (c) => c.logLevel],
  ['OTEL_RESOURCE_ATTRIBUTES', '=novalue', (c) => c.resourceAttributes],
  ['OTEL_RESOURCE_ATTRIBUTES', 'a=%E0%A4%A', (c) => c.resourceAttributes],
  ['OTEL_NODE_RESOURCE_DETECTORS', 'ec2', (c) => c.resourceDetectors.length === 0],
  ['OTEL_TRACES_EXPORTER', 'zipkin', (c) => c.exporters],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'localhost:4317', (c) => c.otlp.url],
  ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://c:4317', (c) => c.otlp.url],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'udp', (c) => c.otlp.protocol],
  ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http', (c) => c.otlp.protocol],
  ['OTEL_EXPORTER_OTLP_HEADERS', 'novalue', (c) => c.otlp.headers],
  ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'x=%0A', (c) => c.otlp.headers],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', '-1', (c) => c.otlp.timeoutMs],
  ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '1e99', (c) => c.otlp.timeoutMs],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'zstd', (c) => c.otlp.compression],
  ['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'deflate', (c) => c.otlp.compression],
  ['OTEL_EXPORTER_OTLP_CERTIFICATE', '/nonexistent/ca.pem', () => true],
  ['OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE', '/nonexistent/ca.pem', () => true],
  ['OTEL_EXPORTER_OTLP_CLIENT_KEY', '/nonexistent/key.pem', () => true, { OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', '/nonexistent/cert.pem', () => true, { OTEL_EXPORTER_OTLP_CLIENT_KEY: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_INSECURE', 'yes', (c) => c.otlp.insecure],
  ['OTEL_EXPORTER_OTLP_TRACES_INSECURE', '1', (c) => c.otlp.insecure],
  ['OTEL_METRICS_EXPORTER', 'statsd', (c) => c.metrics.exporters],
  ['OTEL_METRIC_EXPORT_INTERVAL', '1m', (c) => c.metrics.intervalMs],
  ['OTEL_METRIC_EXPORT_TIMEOUT', '-5', (c) => c.metrics.timeoutMs],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'deltas', (c) => c.metrics.temporality],
  ['OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', 'exponential', (c) => c.metrics.histogramAggregation],
  ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'grpc://c:4317', (c) => c.metrics.otlp.url],
  ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http', (c) => c.metrics.otlp.protocol],
  ['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'x=%0A', (c) => c.metrics.otlp.headers],
  ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '1e99', (c) => c.metrics.otlp.timeoutMs],
  ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'deflate', (c) => c.metrics.otlp.compression],
  ['OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE', '/nonexistent/ca.pem', () => true],
  ['OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY', '/nonexistent/key.pem', () => true, { OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE', '/nonexistent/cert.pem', () => true, { OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_METRICS_INSECURE', '1', (c) => c.metrics.otlp.insecure],
  ['OTEL_EXPORTER_PROMETHEUS_PORT', '99999', (c) => c.metrics.prometheus.port, { OTEL_METRICS_EXPORTER: 'prometheus' }],
  ['OTEL_BSP_SCHEDULE_DELAY', '5s', (c) => c.batch.scheduledDelayMs],
  ['OTEL_BSP_EXPORT_TIMEOUT', '0', (c) => c.batch.exportTimeoutMs],
  ['OTEL_BSP_MAX_QUEUE_SIZE', '2048.5', (c) => c.batch.maxQueueSize],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'lots', (c) => c.batch.maxExportBatchSize],
  ['OTEL_LOGS_EXPORTER', 'loki', (c) => c.logs.exporters],
  ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'grpc://c:4317', (c) => c.logs.otlp.url],
  ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'http', (c) => c.logs.otlp.protocol],
  ['OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'x=%0A', (c) => c.logs.otlp.headers],
  ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', '1e99', (c) => c.logs.otlp.timeoutMs],
  ['OTEL_EXPORTER_OTLP_LOGS_COMPRESSION', 'deflate', (c) => c.logs.otlp.compression],
  ['OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE', '/nonexistent/ca.pem', () => true],
  ['OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY', '/nonexistent/key.pem', () => true, { OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE', '/nonexistent/cert.pem', () => true, { OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: CLIENT_PEM }],
  ['OTEL_EXPORTER_OTLP_LOGS_INSECURE', '1', (c) => c.logs.otlp.insecure],
  ['OTEL_BLRP_SCHEDULE_DELAY', '1s', (c) => c.logs.batch.scheduledDelayMs],
  ['OTEL_BLRP_EXPORT_TIMEOUT', '0', (c) => c.logs.batch.exportTimeoutMs],
  ['OTEL_BLRP_MAX_QUEUE_SIZE', '2048.5', (c) => c.logs.batch.maxQueueSize],
  ['OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 'lots', (c) => c.logs.batch.maxExportBatchSize],
  ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'short', (c) => c.logs.limits.attributeValueLengthLimit],
  ['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', '0x10', (c) => c.logs.limits.attributeCountLimit],
  ['OTEL_TRACES_SAMPLER', 'probabilistic', (c) => c.sampler],
  ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '-3', (c) => c.spanLimits.attributeValueLengthLimit],
  ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'short', (c) => c.spanLimits.attributeValueLengthLimit],
  ['OTEL_ATTRIBUTE_COUNT_LIMIT', '1.5', (c) => c.spanLimits.attributeCountLimit],
  ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '0x10', (c) => c.spanLimits.attributeCountLimit],
  ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'NaN', (c) => c.spanLimits.eventCountLimit],
  ['OTEL_SPAN_LINK_COUNT_LIMIT', 'Infinity', (c) => c.spanLimits.linkCountLimit],
  ['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', '10000000000', (c) => c.spanLimits.attributePerEventCountLimit],
  ['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', '--1', (c) => c.spanLimits.attributePerLinkCountLimit],
  ['OTEL_PROPAGATORS', 'w3c', (c) => c.propagators],
  ['OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'expresss', (c) => c.instrumentations.length === 0],
  ['OTEL_NODE_DISABLED_INSTRUMENTATIONS', 'htttp', (c) => c.instrumentations],
  ['ACME_OTEL_RESPONSE_HEADERS', 'x-trace', (c) => c.responseHeaders],
  ['ACME_OTEL_IGNORE_PATHS', 'healthz', (c) => c.ignorePaths],
  ['ACME_OTEL_CAPTURE_HEADERS', 'not a header', (c) => c.captureHeaders],
];

describe('every variable we read: an invalid value gives one line naming it and the default stays', () => {
  for (const [variable, value, pick, extra] of CASES) {
    it(`${variable}=${JSON.stringify(value)}`, () => {
      const { config, warnings } = read({ ...extra, [variable]: value });
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.ok(warnings[0]!.includes(variable), warnings[0]);
      assert.deepEqual(pick(config), pick(defaults));
    });
  }

  it('OTEL_TRACES_SAMPLER_ARG (read only for the ratio samplers)', () => {
    const { config, warnings } = read({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '50%' });
    assert.equal(config.samplerRatio, 1);
    assert.equal(warnings.length, 1);
    assert.deepEqual(read({ OTEL_TRACES_SAMPLER_ARG: 'ignored' }).warnings, []);
  });

  it('OTEL_SDK_DISABLED', () => {
    const warnings: string[] = [];
    assert.equal(isSdkDisabled({ OTEL_SDK_DISABLED: '1' }), false);
    assert.equal(isSdkDisabledWith({ OTEL_SDK_DISABLED: 'TRUE' }, warnings), true);
    assert.deepEqual(warnings, []);
  });

  it('OTEL_SERVICE_NAME takes any text, trimmed; empty means unset', () => {
    assert.equal(read({ OTEL_SERVICE_NAME: '  checkout  ' }).config.serviceName, 'checkout');
    assert.equal(read({ OTEL_SERVICE_NAME: '   ' }).config.serviceName, undefined);
  });
});

function isSdkDisabledWith(env: Record<string, string>, _warnings: string[]): boolean {
  return isSdkDisabled(env);
}

/** Deterministic pseudo-random garbage: control characters, unicode, separators, huge values. */
function* garbage(seed: number): Generator<string> {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const alphabet = ['', ' ', ',', '=', '%', '%ZZ', '\n', '\r\n', '\0', '\u2028', '"', '\\', '/', ':', '-1', '1e309', 'NaN', '💥', 'true', 'http://', 'a'.repeat(100_000), '__proto__', 'constructor'];
  for (let i = 0; i < 40; i++) {
    const parts: string[] = [];
    const length = next() % 6;
    for (let j = 0; j < length; j++) parts.push(alphabet[next() % alphabet.length]!);
    yield parts.join('');
  }
}

describe('readConfig never throws, and every warning is one short line', () => {
  const variables = [...new Set([...CASES.map(([variable]) => variable), 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SERVICE_NAME', 'OTEL_SDK_DISABLED'])];
  it(`garbage in all ${variables.length} variables at once`, () => {
    let seed = 1;
    for (let round = 0; round < 40; round++) {
      const env: Record<string, string> = { OTEL_TRACES_SAMPLER: round % 2 === 0 ? 'traceidratio' : 'always_on' };
      for (const variable of variables) env[variable] = [...garbage(seed++)][round % 40]!;
      const { warnings } = read(env);
      for (const warning of warnings) {
        assert.doesNotMatch(warning, /[\r\n\u2028]/, 'one line');
        assert.ok(warning.length < 600, `short: ${warning.length} characters`);
      }
    }
  });
});
