import { readOtlpConfig, type OtlpConfig } from './otlp.ts';
import { readChoice, readList, readNumber, readRaw, splitKnown, type Warn } from './parse.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const METRIC_EXPORTER_NAMES = ['otlp', 'console', 'prometheus', 'none'] as const;
export type MetricExporterName = 'otlp' | 'console' | 'prometheus';

export const TEMPORALITY_PREFERENCES = ['cumulative', 'delta', 'lowmemory'] as const;
export type TemporalityPreference = (typeof TEMPORALITY_PREFERENCES)[number];

export const HISTOGRAM_AGGREGATIONS = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'] as const;
export type HistogramAggregation = (typeof HISTOGRAM_AGGREGATIONS)[number];

export interface PrometheusConfig {
  readonly host: string;
  readonly port: number;
}

export interface MetricsConfig {
  /** Empty when OTEL_METRICS_EXPORTER=none: then no metrics code loads at all. */
  readonly exporters: readonly MetricExporterName[];
  /** OTEL_METRIC_EXPORT_INTERVAL: time between collections for push exporters (otlp, console). */
  readonly intervalMs: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT: how long one export may take (never more than the interval). */
  readonly timeoutMs: number;
  readonly temporality: TemporalityPreference;
  readonly histogramAggregation: HistogramAggregation;
  /** The OTEL_EXPORTER_OTLP_METRICS_* variables, falling back to the generic OTEL_EXPORTER_OTLP_* ones. */
  readonly otlp: OtlpConfig;
  readonly prometheus: PrometheusConfig;
}

/** tracesToOtlp: whether OTEL_TRACES_EXPORTER includes otlp (the default when OTEL_METRICS_EXPORTER is unset follows it). */
export function readMetricsConfig(env: Env, warn: Warn, tracesToOtlp = true): MetricsConfig {
  const exporters = readMetricExporters(env, warn, tracesToOtlp);
  const intervalMs = readNumber(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, warn, { min: 1, max: 86_400_000 });
  let timeoutMs = readNumber(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, warn, { min: 1, max: 600_000 });
  if (timeoutMs > intervalMs) {
    // The SDK's periodic reader refuses a timeout longer than the interval; only say so when it was asked for.
    if (readRaw(env, 'OTEL_METRIC_EXPORT_TIMEOUT') !== undefined) {
      warn(`OTEL_METRIC_EXPORT_TIMEOUT=${timeoutMs} is longer than OTEL_METRIC_EXPORT_INTERVAL=${intervalMs}; using ${intervalMs}`);
    }
    timeoutMs = intervalMs;
  }
  const usesOtlp = exporters.includes('otlp');
  // Variables of an exporter that is off are not worth a warning.
  const quiet: Warn = () => {};
  return Object.freeze({
    exporters: Object.freeze(exporters),
    intervalMs,
    timeoutMs,
    temporality: readChoice(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', TEMPORALITY_PREFERENCES, 'cumulative', usesOtlp ? warn : quiet),
    histogramAggregation: readChoice(
      env,
      'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
      HISTOGRAM_AGGREGATIONS,
      'explicit_bucket_histogram',
      usesOtlp ? warn : quiet,
    ),
    otlp: readOtlpConfig(env, usesOtlp ? warn : quiet, 'METRICS'),
    prometheus: readPrometheusConfig(env, exporters.includes('prometheus') ? warn : quiet),
  });
}

function readMetricExporters(env: Env, warn: Warn, tracesToOtlp: boolean): MetricExporterName[] {
  const items = readList(env, 'OTEL_METRICS_EXPORTER');
  // Unset: metrics go where spans go. Spans kept on the console or not exported
  // mean no collector is there to take metrics: asked for, they are sent anyway.
  if (items === undefined) return tracesToOtlp ? ['otlp'] : [];
  const known = splitKnown('OTEL_METRICS_EXPORTER', items, METRIC_EXPORTER_NAMES, warn, {}, 'otlp');
  if (known.length === 0) return ['otlp'];
  return known.includes('none') ? [] : (known as MetricExporterName[]);
}

function readPrometheusConfig(env: Env, warn: Warn): PrometheusConfig {
  return Object.freeze({
    host: readRaw(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') ?? 'localhost',
    port: readNumber(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 9464, warn, { min: 0, max: 65_535 }),
  });
}
