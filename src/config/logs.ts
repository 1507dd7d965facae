import type { BatchConfig } from './index.ts';
import { readOtlpConfig, type OtlpConfig } from './otlp.ts';
import { readList, readNumber, readOptionalNumber, splitKnown, type Warn } from './parse.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const LOG_EXPORTER_NAMES = ['otlp', 'console', 'none'] as const;
export type LogExporterName = 'otlp' | 'console';

export interface LogRecordLimitsConfig {
  readonly attributeValueLengthLimit?: number;
  readonly attributeCountLimit?: number;
}

export interface LogsConfig {
  /** Empty when OTEL_LOGS_EXPORTER=none: then no logs code loads and the log libraries are left alone. */
  readonly exporters: readonly LogExporterName[];
  /** The OTEL_BLRP_* variables, with the spec's defaults (a 1 s delay, unlike spans' 5 s). */
  readonly batch: BatchConfig;
  readonly limits: LogRecordLimitsConfig;
  /** The OTEL_EXPORTER_OTLP_LOGS_* variables, falling back to the generic OTEL_EXPORTER_OTLP_* ones. */
  readonly otlp: OtlpConfig;
}

export function readLogsConfig(env: Env, warn: Warn): LogsConfig {
  const exporters = readLogExporters(env, warn);
  // Variables of an exporter that is off are not worth a warning.
  const quiet: Warn = () => {};
  return Object.freeze({
    exporters: Object.freeze(exporters),
    batch: readLogBatchConfig(env, warn),
    limits: Object.freeze(readLogRecordLimits(env, warn)),
    otlp: readOtlpConfig(env, exporters.includes('otlp') ? warn : quiet, 'LOGS'),
  });
}

function readLogExporters(env: Env, warn: Warn): LogExporterName[] {
  const items = readList(env, 'OTEL_LOGS_EXPORTER');
  if (items === undefined) return ['otlp'];
  const known = splitKnown('OTEL_LOGS_EXPORTER', items, LOG_EXPORTER_NAMES, warn, {}, 'otlp');
  if (known.length === 0) return ['otlp'];
  return known.includes('none') ? [] : (known as LogExporterName[]);
}

function readLogBatchConfig(env: Env, warn: Warn): BatchConfig {
  const maxQueueSize = readNumber(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 2048, warn, { min: 1, max: 1_000_000 });
  let maxExportBatchSize = readNumber(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512, warn, { min: 1, max: 1_000_000 });
  if (maxExportBatchSize > maxQueueSize) {
    warn(`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is larger than OTEL_BLRP_MAX_QUEUE_SIZE=${maxQueueSize}; using ${maxQueueSize}`);
    maxExportBatchSize = maxQueueSize;
  }
  return Object.freeze({
    scheduledDelayMs: readNumber(env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000, warn, { min: 0, max: 600_000 }),
    exportTimeoutMs: readNumber(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 30_000, warn, { min: 1, max: 600_000 }),
    maxQueueSize,
    maxExportBatchSize,
  });
}

/** The log-record limits fall back to the general OTEL_ATTRIBUTE_* ones, as the span limits do. */
function readLogRecordLimits(env: Env, warn: Warn): LogRecordLimitsConfig {
  const rule = { min: 0, max: 1_000_000_000 };
  const specificOrGeneral = (specific: string, general: string) => readOptionalNumber(env, specific, warn, rule) ?? readOptionalNumber(env, general, warn, rule);
  return {
    attributeValueLengthLimit: specificOrGeneral('OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    attributeCountLimit: specificOrGeneral('OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'),
  };
}
