import { writeSync } from 'node:fs';
import type { Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { DataPointType, type MetricData, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

type Write = (text: string) => void;

const MAX_ATTRIBUTES_WIDTH = 160;

/**
 * OTEL_METRICS_EXPORTER=console: one compact table per collection, a row
 * per data point:
 *   metric                         attributes                         value
 *   http.server.request.duration s http.route=/polls/:id ...          count=3 sum=0.0123 buckets=[≤0.005:2 ≤0.01:1]
 * Written synchronously to fd 1, as the console span tree is.
 */
export class ConsoleMetricTableExporter implements PushMetricExporter {
  private readonly write: Write;

  constructor(write: Write = writeToStdout) {
    this.write = write;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      const table = formatMetricTable(metrics);
      if (table !== '') this.write(table);
    } catch {
      // stdout closed: the app must not notice.
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function writeToStdout(text: string): void {
  writeSync(process.stdout.fd ?? 1, text);
}

export function formatMetricTable(metrics: ResourceMetrics): string {
  const rows: [string, string, string][] = [];
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.unit === '' ? metric.descriptor.name : `${metric.descriptor.name} ${metric.descriptor.unit}`;
      for (const point of metric.dataPoints) rows.push([name, formatAttributes(point.attributes), formatValue(metric, point.value)]);
    }
  }
  if (rows.length === 0) return '';
  rows.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  const header: [string, string, string] = ['metric', 'attributes', 'value'];
  const nameWidth = Math.max(...[header, ...rows].map((row) => row[0].length));
  const attributesWidth = Math.max(...[header, ...rows].map((row) => row[1].length));
  const line = (row: [string, string, string]) => `${row[0].padEnd(nameWidth)}  ${row[1].padEnd(attributesWidth)}  ${row[2]}`.trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n\n`;
}

function formatAttributes(attributes: Attributes): string {
  const text = Object.entries(attributes)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(' ')
    .replace(/\s+/g, ' ');
  if (text === '') return '-';
  return text.length > MAX_ATTRIBUTES_WIDTH ? `${text.slice(0, MAX_ATTRIBUTES_WIDTH)}…` : text;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

function formatValue(metric: MetricData, value: unknown): string {
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM: {
      const histogram = value as { count: number; sum?: number; buckets: { boundaries: number[]; counts: number[] } };
      const { boundaries, counts } = histogram.buckets;
      // Empty buckets left out: the row stays short, and the boundaries say where each count falls.
      const buckets = counts.flatMap((count, index) => (count === 0 ? [] : [`${index < boundaries.length ? `≤${formatNumber(boundaries[index] ?? 0)}` : `>${formatNumber(boundaries.at(-1) ?? 0)}`}:${count}`]));
      return `count=${histogram.count} sum=${formatNumber(histogram.sum ?? 0)} buckets=[${buckets.join(' ')}]`;
    }
    case DataPointType.EXPONENTIAL_HISTOGRAM: {
      const histogram = value as { count: number; sum?: number; scale: number };
      return `count=${histogram.count} sum=${formatNumber(histogram.sum ?? 0)} scale=${histogram.scale}`;
    }
    default:
      return formatNumber(value as number);
  }
}
