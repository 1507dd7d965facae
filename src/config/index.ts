import { DiagLogLevel } from '@opentelemetry/api';
import { INSTRUMENTATIONS, INSTRUMENTATION_NAMES } from '../instrumentations/table.ts';
import { PROPAGATOR_ALIASES, PROPAGATOR_NAMES, type PropagatorName } from '../propagators/index.ts';
import { RESPONSE_HEADER_FORMATS, type ResponseHeaderFormat } from '../propagators/response-headers.ts';
import { CLOUD_HINT_VARIABLES, type CloudHints } from '../resource/detectors.ts';
import { readMetricsConfig, type MetricsConfig } from './metrics.ts';
import { readLogsConfig, type LogsConfig } from './logs.ts';
import { readOtlpConfig, type OtlpConfig } from './otlp.ts';
import { quote, readChoice, readList, readNumber, readOptionalNumber, readRaw, splitKnown, type Warn } from './parse.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const EXPORTER_NAMES = ['otlp', 'console', 'none'] as const;
export type ExporterName = 'otlp' | 'console';

export const SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const RESOURCE_DETECTOR_NAMES = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'gcp', 'aws', 'azure', 'all', 'none'] as const;
export type ResourceDetectorName = Exclude<(typeof RESOURCE_DETECTOR_NAMES)[number], 'all' | 'none'>;

const LOG_LEVELS: Readonly<Record<string, DiagLogLevel>> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

export interface BatchConfig {
  readonly scheduledDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

export interface SpanLimitsConfig {
  readonly attributeValueLengthLimit?: number;
  readonly attributeCountLimit?: number;
  readonly eventCountLimit?: number;
  readonly linkCountLimit?: number;
  readonly attributePerEventCountLimit?: number;
  readonly attributePerLinkCountLimit?: number;
}

/** Where the AWS Lambda runtime says the function's handler is (both variables are set by the runtime). */
export interface AwsLambdaConfig {
  /** LAMBDA_TASK_ROOT: the directory the function's code is unpacked in. */
  readonly taskRoot: string;
  /** _HANDLER: `path/to/file.exportName`, relative to the task root. */
  readonly handler: string;
}

export interface Config {
  readonly logLevel: DiagLogLevel;
  readonly serviceName: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly resourceDetectors: readonly ResourceDetectorName[];
  readonly exporters: readonly ExporterName[];
  readonly otlp: OtlpConfig;
  readonly batch: BatchConfig;
  readonly metrics: MetricsConfig;
  readonly logs: LogsConfig;
  readonly sampler: SamplerName;
  readonly samplerRatio: number;
  readonly spanLimits: SpanLimitsConfig;
  readonly instrumentations: readonly string[];
  readonly propagators: readonly PropagatorName[];
  readonly responseHeaders: readonly ResponseHeaderFormat[];
  /** Incoming paths (exact or `*` globs) that get no span. */
  readonly ignorePaths: readonly string[];
  /** HTTP header names (lowercase) recorded as http.request.header.* / http.response.header.* attributes. */
  readonly captureHeaders: readonly string[];
  /** Cloud platform variables (K_SERVICE, AWS_LAMBDA_FUNCTION_NAME, …) for the resource detectors. */
  readonly cloudHints: CloudHints;
  /** Set inside AWS Lambda only: the aws-lambda instrumentation is loaded at start to wrap this handler. */
  readonly awsLambda: AwsLambdaConfig | undefined;
  /** Upper bound for the flush at SIGTERM/SIGINT/beforeExit. */
  readonly shutdownTimeoutMs: number;
}

/**
 * Reads every OTEL_* (and our ACME_OTEL_*) variable once. Invalid values are
 * reported through `warn`, one line each, and replaced by the documented default.
 */
export function readConfig(env: Env, reportWarning: Warn): Config {
  // Traces and metrics read the same generic OTEL_EXPORTER_OTLP_* variables: one line per problem.
  const said = new Set<string>();
  const warn: Warn = (line) => {
    if (said.has(line)) return;
    said.add(line);
    reportWarning(line);
  };
  const logLevel = LOG_LEVELS[readChoice(env, 'OTEL_LOG_LEVEL', Object.keys(LOG_LEVELS), 'info', warn)] ?? DiagLogLevel.INFO;
  const batch = readBatchConfig(env, warn);
  const otlp = readOtlpConfig(env, warn);
  return Object.freeze({
    logLevel,
    serviceName: readRaw(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: Object.freeze(parseResourceAttributes(env, warn)),
    resourceDetectors: Object.freeze(readResourceDetectors(env, warn)),
    exporters: Object.freeze(readExporters(env, warn)),
    otlp,
    batch,
    metrics: readMetricsConfig(env, warn, readExporters(env, () => {}).includes('otlp')),
    logs: readLogsConfig(env, warn),
    ...readSampler(env, warn),
    spanLimits: Object.freeze(readSpanLimits(env, warn)),
    instrumentations: Object.freeze(readInstrumentations(env, warn)),
    propagators: Object.freeze(readPropagators(env, warn)),
    responseHeaders: Object.freeze(readResponseHeaders(env, warn)),
    ignorePaths: Object.freeze(readIgnorePaths(env, warn)),
    captureHeaders: Object.freeze(readCaptureHeaders(env, warn)),
    cloudHints: Object.freeze(Object.fromEntries(CLOUD_HINT_VARIABLES.flatMap((name) => (readRaw(env, name) === undefined ? [] : [[name, readRaw(env, name)]])))),
    awsLambda: readAwsLambda(env),
    // A few seconds at most: a platform's kill -9 follows SIGTERM after its grace period.
    shutdownTimeoutMs: Math.min(batch.exportTimeoutMs, 5_000),
  });
}

function readExporters(env: Env, warn: Warn): ExporterName[] {
  const items = readList(env, 'OTEL_TRACES_EXPORTER');
  if (items === undefined) return ['otlp'];
  const known = splitKnown('OTEL_TRACES_EXPORTER', items, EXPORTER_NAMES, warn, {}, 'otlp');
  if (known.length === 0) return ['otlp'];
  return known.includes('none') ? [] : (known as ExporterName[]);
}

function readBatchConfig(env: Env, warn: Warn): BatchConfig {
  const maxQueueSize = readNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, warn, { min: 1, max: 1_000_000 });
  let maxExportBatchSize = readNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, warn, { min: 1, max: 1_000_000 });
  if (maxExportBatchSize > maxQueueSize) {
    warn(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE=${maxQueueSize}; using ${maxQueueSize}`);
    maxExportBatchSize = maxQueueSize;
  }
  return Object.freeze({
    scheduledDelayMs: readNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, warn, { min: 0, max: 600_000 }),
    exportTimeoutMs: readNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, warn, { min: 1, max: 600_000 }),
    maxQueueSize,
    maxExportBatchSize,
  });
}

function readSampler(env: Env, warn: Warn): { sampler: SamplerName; samplerRatio: number } {
  const sampler = readChoice(env, 'OTEL_TRACES_SAMPLER', SAMPLER_NAMES, 'parentbased_always_on', warn);
  const usesRatio = sampler === 'traceidratio' || sampler === 'parentbased_traceidratio';
  const rawArg = readRaw(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (!usesRatio) return { sampler, samplerRatio: 1 };
  if (rawArg === undefined) return { sampler, samplerRatio: 1 };
  const samplerRatio = readNumber(env, 'OTEL_TRACES_SAMPLER_ARG', 1, warn, { min: 0, max: 1, integer: false });
  return { sampler, samplerRatio };
}

function readSpanLimits(env: Env, warn: Warn): SpanLimitsConfig {
  const rule = { min: 0, max: 1_000_000_000 };
  const spanOrGeneral = (specific: string, general: string) =>
    readOptionalNumber(env, specific, warn, rule) ?? readOptionalNumber(env, general, warn, rule);
  return {
    attributeValueLengthLimit: spanOrGeneral('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    attributeCountLimit: spanOrGeneral('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'),
    eventCountLimit: readOptionalNumber(env, 'OTEL_SPAN_EVENT_COUNT_LIMIT', warn, rule),
    linkCountLimit: readOptionalNumber(env, 'OTEL_SPAN_LINK_COUNT_LIMIT', warn, rule),
    attributePerEventCountLimit: readOptionalNumber(env, 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', warn, rule),
    attributePerLinkCountLimit: readOptionalNumber(env, 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', warn, rule),
  };
}

const INSTRUMENTATION_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  INSTRUMENTATIONS.filter((e) => e.own !== true).map((e) => [e.packageName.toLowerCase(), e.name]),
);

function readInstrumentations(env: Env, warn: Warn): string[] {
  const enabledList = readList(env, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS');
  const disabledList = readList(env, 'OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? [];
  const enabled =
    enabledList === undefined
      ? INSTRUMENTATIONS.filter((e) => e.enabledByDefault).map((e) => e.name)
      : splitKnown('OTEL_NODE_ENABLED_INSTRUMENTATIONS', enabledList, INSTRUMENTATION_NAMES, warn, INSTRUMENTATION_ALIASES, 'the default set');
  // A typo in the only name given would otherwise trace nothing at all.
  if (enabled.length === 0 && enabledList !== undefined) enabled.push(...INSTRUMENTATIONS.filter((e) => e.enabledByDefault).map((e) => e.name));
  const disabled = splitKnown('OTEL_NODE_DISABLED_INSTRUMENTATIONS', disabledList, INSTRUMENTATION_NAMES, warn, INSTRUMENTATION_ALIASES);
  return enabled.filter((name) => !disabled.includes(name));
}

/** The same condition upstream's AwsLambdaInstrumentation.init() checks before it patches anything. */
function readAwsLambda(env: Env): AwsLambdaConfig | undefined {
  const taskRoot = readRaw(env, 'LAMBDA_TASK_ROOT');
  const handler = readRaw(env, '_HANDLER');
  return taskRoot === undefined || handler === undefined ? undefined : Object.freeze({ taskRoot, handler });
}

function readPropagators(env: Env, warn: Warn): PropagatorName[] {
  const items = readList(env, 'OTEL_PROPAGATORS');
  if (items === undefined) return ['tracecontext', 'baggage'];
  const known = splitKnown('OTEL_PROPAGATORS', items, PROPAGATOR_NAMES, warn, PROPAGATOR_ALIASES, 'tracecontext,baggage');
  if (known.includes('none')) return [];
  if (known.length === 0) return ['tracecontext', 'baggage'];
  return known;
}

function readResponseHeaders(env: Env, warn: Warn): ResponseHeaderFormat[] {
  const items = readList(env, 'ACME_OTEL_RESPONSE_HEADERS');
  if (items === undefined) return [];
  return splitKnown('ACME_OTEL_RESPONSE_HEADERS', items, RESPONSE_HEADER_FORMATS, warn);
}

function readIgnorePaths(env: Env, warn: Warn): string[] {
  const raw = readRaw(env, 'ACME_OTEL_IGNORE_PATHS');
  if (raw === undefined) return [];
  const paths: string[] = [];
  for (const item of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    if (item.startsWith('/')) paths.push(item);
    else warn(`ACME_OTEL_IGNORE_PATHS: ${quote(item)} does not start with /; skipped`);
  }
  return paths;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function readCaptureHeaders(env: Env, warn: Warn): string[] {
  const items = readList(env, 'ACME_OTEL_CAPTURE_HEADERS');
  if (items === undefined) return [];
  const bad = items.filter((item) => !HEADER_NAME.test(item));
  if (bad.length > 0) warn(`ACME_OTEL_CAPTURE_HEADERS: ${bad.map(quote).join(', ')} ${bad.length === 1 ? 'is not a header name' : 'are not header names'}; skipped`);
  return items.filter((item) => HEADER_NAME.test(item));
}

function readResourceDetectors(env: Env, warn: Warn): ResourceDetectorName[] {
  const all: ResourceDetectorName[] = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'gcp', 'aws', 'azure'];
  const items = readList(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  if (items === undefined) return all;
  const known = splitKnown('OTEL_NODE_RESOURCE_DETECTORS', items, RESOURCE_DETECTOR_NAMES, warn, {}, 'all');
  if (known.includes('none') || (known.length === 0 && items.length === 0)) return [];
  if (known.length === 0) return all;
  if (known.includes('all')) return all;
  return known as ResourceDetectorName[];
}

/** `key=value,key2=value2`, values percent-encoded (resource SDK spec). */
export function parseResourceAttributes(env: Env, warn: Warn): Record<string, string> {
  const raw = readRaw(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const attributes: Record<string, string> = {};
  if (raw === undefined) return attributes;
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const separator = entry.indexOf('=');
    const key = separator === -1 ? '' : entry.slice(0, separator).trim();
    if (key === '') {
      warn(`OTEL_RESOURCE_ATTRIBUTES: entry ${quote(entry.trim())} is not key=value; skipped`);
      continue;
    }
    try {
      attributes[key] = decodeURIComponent(entry.slice(separator + 1).trim());
    } catch {
      warn(`OTEL_RESOURCE_ATTRIBUTES: the value of ${quote(key)} is not valid percent-encoding; skipped`);
    }
  }
  return attributes;
}
