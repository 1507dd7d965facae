import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { AggregationOption, AggregationTemporality, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExportHealth } from '../export/export-health.ts';
import { watchedExport } from '../export/lazy-exporter.ts';
import { printLine } from '../logging.ts';
import type { RecordedDurations } from './http-duration-processor.ts';

export interface MetricSelectors {
  temporality(instrument: InstrumentType): AggregationTemporality;
  aggregation(instrument: InstrumentType): AggregationOption;
}

/**
 * The metrics twin of LazySpanExporter: the OTLP metric exporter (and its
 * transport and encoders) is built at the first collection, not at start;
 * every outcome goes to the same ExportHealth lines as spans, counted in
 * metric points. Temporality and aggregation are answered here, so the
 * periodic reader can ask before the real exporter exists.
 */
export class LazyMetricExporter implements PushMetricExporter {
  private exporter: PushMetricExporter | undefined;
  private failedToBuild = false;
  private readonly label: string;
  private readonly build: () => PushMetricExporter;
  private readonly health: ExportHealth;
  private readonly selectors: MetricSelectors;
  private readonly answerWithinMs: number;

  private readonly durations: RecordedDurations;

  constructor(label: string, build: () => PushMetricExporter, health: ExportHealth, selectors: MetricSelectors, answerWithinMs: number, durations: RecordedDurations) {
    this.durations = durations;
    this.label = label;
    this.build = build;
    this.health = health;
    this.selectors = selectors;
    this.answerWithinMs = answerWithinMs;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const points = countDataPoints(metrics);
    if (points === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.durations.sent = this.durations.recorded;
    const exporter = this.get();
    const send = exporter === undefined ? undefined : (answer: (result: ExportResult) => void) => exporter.export(metrics, answer);
    // The loss is counted and reported in ExportHealth's lines. The reader would
    // only log each failure once more (it never retries), so it hears success.
    watchedExport(this.health, points, this.answerWithinMs, send, `${this.label} exporter unavailable`, () => resultCallback({ code: ExportResultCode.SUCCESS }));
  }

  selectAggregationTemporality(instrument: InstrumentType): AggregationTemporality {
    return this.selectors.temporality(instrument);
  }

  selectAggregation(instrument: InstrumentType): AggregationOption {
    return this.selectors.aggregation(instrument);
  }

  async forceFlush(): Promise<void> {
    await this.exporter?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.exporter?.shutdown();
  }

  private get(): PushMetricExporter | undefined {
    if (this.exporter !== undefined || this.failedToBuild) return this.exporter;
    try {
      this.exporter = this.build();
    } catch (error) {
      this.failedToBuild = true;
      printLine(`the ${this.label} metric exporter could not be created (${(error as Error).message}); metric points are dropped`);
    }
    return this.exporter;
  }
}

export function countDataPoints(metrics: ResourceMetrics): number {
  let points = 0;
  for (const scope of metrics.scopeMetrics) for (const metric of scope.metrics) points += metric.dataPoints.length;
  return points;
}
