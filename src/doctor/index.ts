/**
 * `npx @acme/otel-register doctor`: what the loader would do in this directory
 * with this environment, and whether the collectors take a span, a metric
 * point and a log record (each to its own endpoint). Exit code 0
 * when configuration is clean and the test export succeeded, 1 otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { readConfig, type Config } from '../config/index.ts';
import type { OtlpConfig } from '../config/otlp.ts';
import { readRaw } from '../config/parse.ts';
import { createEncodedSpanSender, EncodedSpanExporter, isEncodedProtocol } from '../export/encoded-span-exporter.ts';
import { createOtlpExporter } from '../export/otlp-exporter.ts';
import { SpanEncoder } from '../export/span-encoder.ts';
import { INSTRUMENTATIONS } from '../instrumentations/table.ts';
import { createOtlpLogExporter } from '../logs/otlp-log-exporter.ts';
import { createOtlpMetricExporter } from '../metrics/otlp-metric-exporter.ts';
import { buildResource } from '../resource/index.ts';

type Env = Readonly<Record<string, string | undefined>>;
type Write = (line: string) => void;

export interface DoctorOptions {
  env?: Env;
  cwd?: string;
  write?: Write;
  /** Skip sending the test span. */
  noExport?: boolean;
}

/** Runs every check and returns the exit code. */
export async function runDoctor(options: DoctorOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warnings: string[] = [];
  const config = readConfig(env, (line) => warnings.push(line));
  const version = readOwnVersion();

  write(`@acme/otel-register ${version} doctor, Node ${process.versions.node}, in ${cwd}`);
  write('');
  write('Configuration (value, and where it came from):');
  for (const row of describeConfig(config, env)) write(`  ${row.name.padEnd(38)} ${row.value}  (${row.source})`);
  write('');
  if (warnings.length === 0) {
    write('Warnings: none');
  } else {
    write(`Warnings (${warnings.length}): the loader prints these at start-up and uses the value shown above instead`);
    for (const warning of warnings) write(`  ! ${warning}`);
  }
  write('');
  for (const line of describeInstrumentations(config, cwd)) write(line);
  write('');
  const failed: string[] = [];
  if (options.noExport) {
    write('Export test: skipped (--no-export)');
  } else {
    // One test per signal, each to its own endpoint, so a collector that takes spans but not metrics shows as such.
    const tests: [signal: string, exporters: readonly string[], variable: string, run: () => Promise<boolean>][] = [
      ['traces', config.exporters, 'OTEL_TRACES_EXPORTER', () => testExport(config, version, write)],
      ['metrics', config.metrics.exporters, 'OTEL_METRICS_EXPORTER', () => testMetricExport(config, version, write)],
      ['logs', config.logs.exporters, 'OTEL_LOGS_EXPORTER', () => testLogExport(config, version, write)],
    ];
    for (const [index, [signal, exporters, variable, run]] of tests.entries()) {
      if (index > 0) write('');
      if (!exporters.includes('otlp')) write(`${EXPORT_TEST_TITLES[signal]}: skipped, ${variable} does not include otlp (${exporters.join(',') || 'none'})`);
      else if (!(await run())) failed.push(signal);
    }
  }
  write('');
  const ok = warnings.length === 0 && failed.length === 0;
  write(ok ? 'Result: OK' : `Result: ${[warnings.length > 0 ? `${warnings.length} configuration warning(s)` : '', failed.length === 0 ? '' : `the test export failed (${failed.join(', ')})`].filter(Boolean).join(', ')}`);
  return ok ? 0 : 1;
}

interface Row {
  name: string;
  value: string;
  source: string;
}

/** [variables, specific one first; how to show the effective value]. */
const ROWS: [names: string[], show: (config: Config) => string][] = [
  [['OTEL_SDK_DISABLED'], () => 'false'],
  [['OTEL_SERVICE_NAME'], (c) => c.serviceName ?? c.resourceAttributes['service.name'] ?? `unknown_service:node`],
  [['OTEL_RESOURCE_ATTRIBUTES'], (c) => Object.entries(c.resourceAttributes).map(([k, v]) => `${k}=${v}`).join(',') || '(none)'],
  [['OTEL_NODE_RESOURCE_DETECTORS'], (c) => c.resourceDetectors.join(',') || 'none'],
  [['OTEL_TRACES_EXPORTER'], (c) => c.exporters.join(',') || 'none'],
  [['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'], (c) => c.otlp.url],
  [['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'], (c) => c.otlp.protocol],
  [['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'], (c) => maskHeaders(c.otlp.headers)],
  [['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], (c) => `${c.otlp.timeoutMs} ms`],
  [['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'], (c) => c.otlp.compression],
  [['OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CERTIFICATE'], (c) => c.otlp.certificateFile ?? '(system CAs)'],
  [['OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_CLIENT_KEY'], (c) => c.otlp.clientKeyFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'], (c) => c.otlp.clientCertificateFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_TRACES_INSECURE', 'OTEL_EXPORTER_OTLP_INSECURE'], (c) => (c.otlp.insecure === undefined ? '(by URL scheme)' : String(c.otlp.insecure))],
  [['OTEL_BSP_SCHEDULE_DELAY'], (c) => `${c.batch.scheduledDelayMs} ms`],
  [['OTEL_BSP_EXPORT_TIMEOUT'], (c) => `${c.batch.exportTimeoutMs} ms (flush at exit: at most ${c.shutdownTimeoutMs} ms)`],
  [['OTEL_BSP_MAX_QUEUE_SIZE'], (c) => String(c.batch.maxQueueSize)],
  [['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], (c) => String(c.batch.maxExportBatchSize)],
  [['OTEL_METRICS_EXPORTER'], (c) => c.metrics.exporters.join(',') || 'none'],
  [['OTEL_METRIC_EXPORT_INTERVAL'], (c) => `${c.metrics.intervalMs} ms`],
  [['OTEL_METRIC_EXPORT_TIMEOUT'], (c) => `${c.metrics.timeoutMs} ms`],
  [['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'], (c) => c.metrics.otlp.url],
  [['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'], (c) => c.metrics.otlp.protocol],
  [['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'], (c) => maskHeaders(c.metrics.otlp.headers)],
  [['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], (c) => `${c.metrics.otlp.timeoutMs} ms`],
  [['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'], (c) => c.metrics.otlp.compression],
  [['OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CERTIFICATE'], (c) => c.metrics.otlp.certificateFile ?? '(system CAs)'],
  [['OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_CLIENT_KEY'], (c) => c.metrics.otlp.clientKeyFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'], (c) => c.metrics.otlp.clientCertificateFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_METRICS_INSECURE', 'OTEL_EXPORTER_OTLP_INSECURE'], (c) => (c.metrics.otlp.insecure === undefined ? '(by URL scheme)' : String(c.metrics.otlp.insecure))],
  [['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'], (c) => c.metrics.temporality],
  [['OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION'], (c) => c.metrics.histogramAggregation],
  [['OTEL_EXPORTER_PROMETHEUS_HOST', 'OTEL_EXPORTER_PROMETHEUS_PORT'], (c) => `${c.metrics.prometheus.host}:${c.metrics.prometheus.port}`],
  [['OTEL_LOGS_EXPORTER'], (c) => c.logs.exporters.join(',') || 'none'],
  [['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'], (c) => c.logs.otlp.url],
  [['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'], (c) => c.logs.otlp.protocol],
  [['OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'], (c) => maskHeaders(c.logs.otlp.headers)],
  [['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], (c) => `${c.logs.otlp.timeoutMs} ms`],
  [['OTEL_EXPORTER_OTLP_LOGS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'], (c) => c.logs.otlp.compression],
  [['OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CERTIFICATE'], (c) => c.logs.otlp.certificateFile ?? '(system CAs)'],
  [['OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_CLIENT_KEY'], (c) => c.logs.otlp.clientKeyFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'], (c) => c.logs.otlp.clientCertificateFile ?? '(none)'],
  [['OTEL_EXPORTER_OTLP_LOGS_INSECURE', 'OTEL_EXPORTER_OTLP_INSECURE'], (c) => (c.logs.otlp.insecure === undefined ? '(by URL scheme)' : String(c.logs.otlp.insecure))],
  [['OTEL_BLRP_SCHEDULE_DELAY'], (c) => `${c.logs.batch.scheduledDelayMs} ms`],
  [['OTEL_BLRP_EXPORT_TIMEOUT'], (c) => `${c.logs.batch.exportTimeoutMs} ms`],
  [['OTEL_BLRP_MAX_QUEUE_SIZE'], (c) => String(c.logs.batch.maxQueueSize)],
  [['OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'], (c) => String(c.logs.batch.maxExportBatchSize)],
  [['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'], (c) => String(c.logs.limits.attributeValueLengthLimit ?? 'unlimited')],
  [['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'], (c) => String(c.logs.limits.attributeCountLimit ?? 128)],
  [['OTEL_TRACES_SAMPLER'], (c) => c.sampler],
  [['OTEL_TRACES_SAMPLER_ARG'], (c) => String(c.samplerRatio)],
  [['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'], (c) => String(c.spanLimits.attributeValueLengthLimit ?? 'unlimited')],
  [['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'], (c) => String(c.spanLimits.attributeCountLimit ?? 128)],
  [['OTEL_SPAN_EVENT_COUNT_LIMIT'], (c) => String(c.spanLimits.eventCountLimit ?? 128)],
  [['OTEL_SPAN_LINK_COUNT_LIMIT'], (c) => String(c.spanLimits.linkCountLimit ?? 128)],
  [['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT'], (c) => String(c.spanLimits.attributePerEventCountLimit ?? 128)],
  [['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT'], (c) => String(c.spanLimits.attributePerLinkCountLimit ?? 128)],
  [['OTEL_PROPAGATORS'], (c) => c.propagators.join(',') || 'none'],
  [['OTEL_NODE_DISABLED_INSTRUMENTATIONS', 'OTEL_NODE_ENABLED_INSTRUMENTATIONS'], (c) => `${c.instrumentations.length} enabled (below)`],
  [['OTEL_LOG_LEVEL'], (c) => (DiagLogLevel[c.logLevel] ?? String(c.logLevel)).toLowerCase()],
  [['ACME_OTEL_RESPONSE_HEADERS'], (c) => c.responseHeaders.join(',') || '(none)'],
  [['ACME_OTEL_IGNORE_PATHS'], (c) => c.ignorePaths.join(',') || '(none)'],
  [['ACME_OTEL_CAPTURE_HEADERS'], (c) => c.captureHeaders.join(',') || '(none)'],
];

export function describeConfig(config: Config, env: Env): Row[] {
  return ROWS.map(([names, show]) => {
    const set = names.filter((name) => readRaw(env, name) !== undefined);
    return { name: set[0] ?? names[names.length - 1]!, value: show(config), source: set.length === 0 ? 'default' : `env ${set.join(', ')}` };
  });
}

/** Header names only: the values are API keys more often than not. */
export function maskHeaders(headers: Readonly<Record<string, string>>): string {
  const names = Object.keys(headers);
  return names.length === 0 ? '(none)' : names.map((name) => `${name}=****`).join(',');
}

function describeInstrumentations(config: Config, cwd: string): string[] {
  const manifestPath = path.join(cwd, 'package.json');
  const lines: string[] = [];
  let declared: Set<string> | undefined;
  if (existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, Record<string, string> | undefined>;
      declared = new Set(['dependencies', 'optionalDependencies', 'devDependencies', 'peerDependencies'].flatMap((field) => Object.keys(manifest[field] ?? {})));
    } catch (error) {
      lines.push(`  ! ${manifestPath} is not valid JSON (${(error as Error).message})`);
    }
  } else {
    lines.push(`  (no package.json in ${cwd}: looking at node_modules only)`);
  }
  const applying: string[] = [];
  const disabled: string[] = [];
  for (const entry of INSTRUMENTATIONS) {
    const found = entry.modules.map((name) => targetVersion(name, cwd, declared)).find((v) => v !== undefined);
    if (found === undefined) continue;
    const label = `${entry.name} (${found})`;
    if (config.instrumentations.includes(entry.name)) applying.push(label);
    else disabled.push(label);
  }
  return [
    `Instrumentations that apply to this project (${applying.length}):`,
    ...lines,
    ...applying.map((label) => `  + ${label}`),
    ...(disabled.length > 0 ? [`Installed but not enabled (OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS):`, ...disabled.map((label) => `  - ${label}`)] : []),
  ];
}

/**
 * `node:http` for builtins, `express@5.3.0` for the project's packages, undefined when absent.
 * With a package.json only its declared dependencies count (node_modules also holds our own
 * transitive ones, @grpc/grpc-js for one); without, whatever node_modules has.
 */
function targetVersion(moduleName: string, cwd: string, declared: ReadonlySet<string> | undefined): string | undefined {
  if (Module.isBuiltin(moduleName)) return `node:${moduleName}`;
  if (declared !== undefined && !declared.has(moduleName)) return undefined;
  const manifest = path.join(cwd, 'node_modules', moduleName, 'package.json');
  if (existsSync(manifest)) {
    try {
      return `${moduleName}@${(JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? '?'}`;
    } catch {
      return moduleName;
    }
  }
  return declared !== undefined ? `${moduleName}, declared but not installed` : undefined;
}

/** How the test export goes: protocol, TLS, compression and header names (never values). */
function describeTransport(otlp: OtlpConfig): string {
  const url = new URL(otlp.url);
  const tls = url.protocol === 'https:' ? `TLS${otlp.certificateFile ? ' with custom CA' : ''}${otlp.clientCertificateFile ? ' + client certificate' : ''}` : 'plaintext';
  const auth = Object.keys(otlp.headers).length === 0 ? 'no headers' : `headers ${Object.keys(otlp.headers).join(',')}`;
  return `OTLP ${otlp.protocol}, ${tls}, ${otlp.compression}, ${auth}`;
}

const EXPORT_TEST_TITLES: Readonly<Record<string, string>> = { traces: 'Export test', metrics: 'Metric export test', logs: 'Log export test' };

async function testExport(config: Config, version: string, write: Write): Promise<boolean> {
  const { otlp } = config;
  write(`Export test: one span to ${otlp.url} (${describeTransport(otlp)})`);
  const span = makeTestSpan(config, version);
  const timeoutMs = Math.min(otlp.timeoutMs, 10_000);
  const startedAt = Date.now();
  // The app's own path: grpc and http/protobuf spans are encoded at their end and sent by our transport.
  const error = isEncodedProtocol(otlp.protocol)
    ? await exportOnce(new EncodedSpanExporter(createEncodedSpanSender({ ...otlp, protocol: otlp.protocol, timeoutMs }, { retry: false })), [new SpanEncoder().encode(span)], timeoutMs)
    : await exportOnce(createOtlpExporter({ ...otlp, timeoutMs }, { retry: false }), [span], timeoutMs);
  if (error === undefined) {
    write(`  OK: the collector accepted it in ${Date.now() - startedAt} ms (trace id ${span.spanContext().traceId})`);
    return true;
  }
  write(`  FAILED after ${Date.now() - startedAt} ms: ${error}`);
  return false;
}

/** One log record, built by the logs SDK as the loader builds them, to the logs' own OTLP settings. */
async function testLogExport(config: Config, version: string, write: Write): Promise<boolean> {
  const otlp = config.logs.otlp;
  write(`Log export test: one log record to ${otlp.url} (${describeTransport(otlp)})`);
  const timeoutMs = Math.min(otlp.timeoutMs, 10_000);
  const startedAt = Date.now();
  let error: string | undefined;
  try {
    const record = makeTestLogRecord(config, version);
    error = await exportOnce(createOtlpLogExporter({ ...otlp, timeoutMs }, { retry: false }), [record], timeoutMs);
  } catch (thrown) {
    error = describeError(thrown as Error);
  }
  if (error === undefined) {
    write(`  OK: the collector accepted it in ${Date.now() - startedAt} ms`);
    return true;
  }
  write(`  FAILED after ${Date.now() - startedAt} ms: ${error}`);
  return false;
}

/** One counter point, collected by the metrics SDK as the loader collects them, to the metrics' own OTLP settings. */
async function testMetricExport(config: Config, version: string, write: Write): Promise<boolean> {
  const otlp = config.metrics.otlp;
  write(`Metric export test: one metric point to ${otlp.url} (${describeTransport(otlp)})`);
  const timeoutMs = Math.min(otlp.timeoutMs, 10_000);
  const startedAt = Date.now();
  let error: string | undefined;
  try {
    const collection = await collectTestMetric(config, version);
    const exporter = createOtlpMetricExporter({ ...otlp, timeoutMs });
    // A metric exporter takes one collection, not a list.
    error = await exportOnce({ export: ([item], done) => exporter.export(item!, done), shutdown: () => exporter.shutdown() }, [collection], timeoutMs);
  } catch (thrown) {
    error = describeError(thrown as Error);
  }
  if (error === undefined) {
    write(`  OK: the collector accepted it in ${Date.now() - startedAt} ms (metric ${TEST_METRIC_NAME})`);
    return true;
  }
  write(`  FAILED after ${Date.now() - startedAt} ms: ${error}`);
  return false;
}

const TEST_METRIC_NAME = 'otel_register.doctor.test';

async function collectTestMetric(config: Config, version: string): Promise<ResourceMetrics> {
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  class OneCollection extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const reader = new OneCollection();
  const provider = new MeterProvider({ resource: buildResource(config, version), readers: [reader] });
  provider.getMeter('@acme/otel-register/doctor', version).createCounter(TEST_METRIC_NAME, { description: 'One point sent by otel-register doctor' }).add(1, { 'otel_register.doctor': true });
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw errors[0] as Error;
  return resourceMetrics;
}

function makeTestLogRecord(config: Config, version: string): ReadableLogRecord {
  const { LoggerProvider } = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
  let emitted: ReadableLogRecord | undefined;
  const capture: LogRecordProcessor = {
    onEmit(record) {
      emitted = record;
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new LoggerProvider({ resource: buildResource(config, version), processors: [capture] });
  provider.getLogger('@acme/otel-register/doctor', version).emit({ severityNumber: 9, severityText: 'info', body: 'otel-register doctor test log record', attributes: { 'otel_register.doctor': true } });
  return emitted!;
}

/** Exports `items` once; undefined when the collector accepted them, else why not. */
async function exportOnce<Item>(exporter: { export(items: Item[], done: (result: ExportResult) => void): void; shutdown(): Promise<void> }, items: Item[], timeoutMs: number): Promise<string | undefined> {
  const error = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs + 1_000);
    try {
      exporter.export(items, (result) => {
        clearTimeout(timer);
        resolve(result.code === ExportResultCode.SUCCESS ? undefined : describeError(result.error));
      });
    } catch (thrown) {
      clearTimeout(timer);
      resolve(describeError(thrown as Error));
    }
  });
  void exporter.shutdown().catch(() => {});
  return error;
}

/** First line of the message, plus the HTTP status and body an OTLPExporterError carries; never the request's headers. */
function describeError(error: Error | undefined): string {
  if (error === undefined) return 'export failed, no reason given';
  const extra = error as Error & { code?: unknown; data?: unknown };
  // grpc-js ends its messages with an empty "Resolution note:" when DNS had nothing to add.
  const message = (error.message || error.name || 'error').split('\n')[0]!.replace(/\.?\s*Resolution note:\s*$/, '');
  const status = typeof extra.code === 'number' && !message.startsWith(String(extra.code)) && error.constructor.name === 'OTLPExporterError' ? ` (HTTP ${extra.code})` : '';
  const body = typeof extra.data === 'string' && extra.data !== '' ? `: ${extra.data.slice(0, 200)}` : '';
  return `${message}${status}${body}`;
}

function makeTestSpan(config: Config, version: string): ReadableSpan {
  let ended: ReadableSpan | undefined;
  const capture: SpanProcessor = {
    onStart() {},
    onEnd(span) {
      ended = span;
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new TracerProvider({ resource: buildResource(config, version), spanProcessors: [capture] });
  provider.getTracer('@acme/otel-register/doctor', version).startSpan('otel-register doctor test span', { attributes: { 'otel_register.doctor': true } }).end();
  return ended!;
}

function readOwnVersion(): string {
  // dist/src/doctor/index.js when installed, src/doctor/index.ts in this repository.
  for (const candidate of ['../../../package.json', '../../package.json']) {
    try {
      const manifest = require(candidate) as { name?: string; version: string };
      if (manifest.name === '@acme/otel-register') return manifest.version;
    } catch {
      // try the next
    }
  }
  return 'unknown';
}
