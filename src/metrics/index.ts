import { metrics } from '@opentelemetry/api';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type IMetricReader, type PushMetricExporter, type ViewOptions } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config/index.ts';
import { ExportHealth, METRIC_POINTS } from '../export/export-health.ts';
import { installQuietErrorHandler } from '../export/index.ts';
import { printLine } from '../logging.ts';
import type { ExitMetrics } from '../lifecycle/exit-flush.ts';
import { ConsoleMetricTableExporter } from './console-metric-exporter.ts';
import { DurationMetricProducer, type HistogramStream } from './duration-histograms.ts';
import { collectNow } from './exit-collection.ts';
import { HttpDurationProcessor, RecordedDurations } from './http-duration-processor.ts';
import { LazyMetricExporter } from './lazy-metric-exporter.ts';
import { createOtlpMetricExporter } from './otlp-metric-exporter.ts';
import { startRuntimeMetrics } from './runtime.ts';
import { aggregationFor, temporalityFor } from './temporality.ts';

/** As for spans: beyond the OTLP timeout, the time a transport gets to report its own timeout. */
const ANSWER_MARGIN_MS = 2_000;

export interface MetricsPipeline {
  provider: MeterProvider;
  /** Feeds the HTTP duration histograms from ended spans. */
  spanProcessor: SpanProcessor;
  /** With the otlp exporter: the last collection for the exit flush (process.exit(), uncaught exception). */
  exitMetrics: ExitMetrics | undefined;
}

/**
 * The upstream HTTP instrumentations measure the same two histograms a second
 * time; ours come from the span (see HttpDurationProcessor), so theirs are dropped.
 */
const DROP_UPSTREAM_HTTP_DURATIONS: ViewOptions[] = [
  { meterName: '@opentelemetry/instrumentation-http', instrumentName: 'http.server.request.duration', aggregation: { type: AggregationType.DROP } },
  { meterName: '@opentelemetry/instrumentation-http', instrumentName: 'http.client.request.duration', aggregation: { type: AggregationType.DROP } },
  { meterName: '@opentelemetry/instrumentation-undici', instrumentName: 'http.client.request.duration', aggregation: { type: AggregationType.DROP } },
];

/**
 * A MeterProvider with one reader per exporter named in OTEL_METRICS_EXPORTER,
 * set as the global one so the instrumentations (loaded later) record into it,
 * and the Node runtime metrics. Exporters load lazily: OTLP at the first
 * collection, Prometheus only when named.
 */
export function createMetricsPipeline(config: Config, resource: Resource): MetricsPipeline {
  const settings = config.metrics;
  let exitMetrics: ExitMetrics | undefined;
  const durations = new RecordedDurations();
  // Each reader also collects the HTTP durations, which HttpDurationProcessor aggregates itself.
  const bound: { reader: IMetricReader; producer: DurationMetricProducer }[] = [];
  for (const name of settings.exporters) {
    const producer = new DurationMetricProducer(resource);
    if (name === 'prometheus') {
      const reader = createPrometheusReader(config, producer);
      if (reader !== undefined) bound.push({ reader, producer });
      continue;
    }
    const exporter: PushMetricExporter = name === 'console' ? new ConsoleMetricTableExporter() : createLazyOtlpExporter(config, durations);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: settings.intervalMs, exportTimeoutMillis: settings.timeoutMs, metricProducers: [producer] });
    if (name === 'otlp') exitMetrics = { collect: () => (durations.unsent ? collectNow(reader, producer) : undefined), otlp: settings.otlp };
    bound.push({ reader, producer });
  }
  const provider = new MeterProvider({ resource, readers: bound.map(({ reader }) => reader), views: DROP_UPSTREAM_HTTP_DURATIONS });
  metrics.setGlobalMeterProvider(provider);
  try {
    startRuntimeMetrics(provider);
  } catch (error) {
    printLine(`Node runtime metrics are off: ${(error as Error).message}`);
  }
  const meter = provider.getMeter('@acme/otel-register');
  return { provider, spanProcessor: new HttpDurationProcessor(meter, durations, bindDurationStreams(bound)), exitMetrics };
}

/**
 * The readers' HTTP duration streams, or undefined when a reader wants them
 * aggregated otherwise than in explicit buckets (an exponential histogram):
 * then sdk-metrics aggregates them for every reader, as one instrument records into all.
 */
function bindDurationStreams(bound: readonly { reader: IMetricReader; producer: DurationMetricProducer }[]): (readonly [HistogramStream, HistogramStream])[] | undefined {
  if (!bound.every(({ reader }) => DurationMetricProducer.aggregatesFor(reader))) return undefined;
  return bound.map(({ reader, producer }) => producer.bind(reader));
}

function createLazyOtlpExporter(config: Config, durations: RecordedDurations): LazyMetricExporter {
  const { otlp, temporality, histogramAggregation } = config.metrics;
  const health = new ExportHealth(`${new URL(otlp.url).host} (OTLP ${otlp.protocol})`, undefined, Date.now, METRIC_POINTS);
  installQuietErrorHandler(health);
  return new LazyMetricExporter(
    `OTLP ${otlp.protocol}`,
    () => createOtlpMetricExporter(otlp),
    health,
    { temporality: (instrument) => temporalityFor(temporality, instrument), aggregation: (instrument) => aggregationFor(histogramAggregation, instrument) },
    // Inside the reader's own OTEL_METRIC_EXPORT_TIMEOUT, so the timeout is ours to count and report, not its to log.
    Math.max(1, Math.min(otlp.timeoutMs + ANSWER_MARGIN_MS, Math.floor(config.metrics.timeoutMs * 0.9))),
    durations,
  );
}

/** Serves /metrics on OTEL_EXPORTER_PROMETHEUS_HOST:PORT; a port in use is one line, not a crash. */
function createPrometheusReader(config: Config, producer: DurationMetricProducer): IMetricReader | undefined {
  const { host, port } = config.metrics.prometheus;
  try {
    const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
    // Started here rather than by the constructor, which would also log the error through diag: one line, ours.
    const exporter = new PrometheusExporter({ host, port, preventServerStart: true, metricProducers: [producer] });
    exporter.startServer().catch((error: NodeJS.ErrnoException) => {
      printLine(`the Prometheus endpoint could not listen on ${host}:${port} (${error.code ?? error.message}); metrics are not served`);
    });
    return exporter;
  } catch (error) {
    printLine(`the Prometheus exporter could not be created (${(error as Error).message}); metrics are not served`);
    return undefined;
  }
}
