import { diag, ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type HistogramMetricData,
  type IMetricReader,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { AttributeSet } from './duration-attributes.ts';

/** Semantic conventions' advice for HTTP durations, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface DurationInstrument {
  readonly name: string;
  readonly description: string;
}
export const SERVER_DURATION: DurationInstrument = { name: 'http.server.request.duration', description: 'Duration of HTTP server requests.' };
export const CLIENT_DURATION: DurationInstrument = { name: 'http.client.request.duration', description: 'Duration of HTTP client requests.' };

/** The options the instruments are created with when sdk-metrics aggregates them (see HttpDurationProcessor). */
export function instrumentOptions(instrument: DurationInstrument) {
  return { description: instrument.description, unit: 's', valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS } };
}

/** The scope provider.getMeter('@acme/otel-register') has. */
export const DURATION_SCOPE: InstrumentationScope = { name: '@acme/otel-register', version: '', schemaUrl: undefined };

/** Where a duration goes: a reader's histogram stream, or every reader's. */
export interface DurationSink {
  record(set: AttributeSet, seconds: number): void;
}

/** sdk-metrics' default cardinality limit per stream. */
const DEFAULT_CARDINALITY_LIMIT = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };
const OVERFLOW_HASH = '[["otel.metric.overflow",true]]';

/** One attribute set's histogram since its start time: HistogramAccumulation's state. */
interface Cell {
  readonly attributes: Attributes;
  startTime: HrTime;
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
  hasMinMax: boolean;
}

/**
 * One histogram as one reader sees it, aggregated the way sdk-metrics 3.1
 * aggregates an explicit-bucket histogram for a reader (SyncMetricStorage,
 * DeltaMetricProcessor, TemporalMetricProcessor, HistogramAggregator), so a
 * collection yields the same points: the cardinality limit and its overflow
 * set per collection interval, a start time at the first record of an
 * attribute set (then the previous collection, for delta), cumulative sums
 * merged across collections, NaN creating an empty point, negatives dropped.
 * test/unit/metrics/duration-histograms.test.ts compares it with the SDK.
 */
export class HistogramStream implements DurationSink {
  private readonly descriptor: HistogramMetricData['descriptor'];
  private readonly boundaries: number[];
  /** A new attribute set beyond this many in one interval goes to the overflow set. */
  private readonly overflowAt: number;
  private readonly selectTemporality: () => AggregationTemporality;
  private temporality: AggregationTemporality | undefined;
  private active = new Map<string, Cell>();
  private lastReport: Map<string, Cell> | undefined;
  private lastCollectionTime: HrTime = [0, 0];

  constructor(instrument: DurationInstrument, cardinalityLimit: number, selectTemporality: () => AggregationTemporality) {
    const options = instrumentOptions(instrument);
    // As createInstrumentDescriptor() builds it.
    this.descriptor = { name: instrument.name, type: InstrumentType.HISTOGRAM, description: options.description, unit: options.unit, valueType: options.valueType, advice: options.advice } as HistogramMetricData['descriptor'];
    this.boundaries = [...HTTP_DURATION_BUCKETS].sort((a, b) => a - b);
    this.overflowAt = cardinalityLimit - 1;
    this.selectTemporality = selectTemporality;
  }

  record(set: AttributeSet, value: number): void {
    if (value < 0) {
      diag.warn(`negative value provided to histogram ${this.descriptor.name}: ${value}`);
      return;
    }
    let cell = this.active.get(set.hash);
    if (cell === undefined) {
      const startTime = millisToHrTime(Date.now());
      if (this.active.size >= this.overflowAt) {
        cell = this.active.get(OVERFLOW_HASH);
        if (cell === undefined) this.active.set(OVERFLOW_HASH, (cell = this.newCell(OVERFLOW_ATTRIBUTES, startTime)));
      } else {
        this.active.set(set.hash, (cell = this.newCell(set.attributes, startTime)));
      }
    }
    if (Number.isNaN(value)) return;
    cell.count += 1;
    cell.sum += value;
    cell.min = Math.min(value, cell.min);
    cell.max = Math.max(value, cell.max);
    cell.hasMinMax = true;
    cell.counts[upperBoundIndex(this.boundaries, value)]! += 1;
  }

  /** What this interval adds, as TemporalMetricProcessor.buildMetrics() reports it; undefined without points. */
  collect(collectionTime: HrTime): HistogramMetricData | undefined {
    const current = this.active;
    this.active = new Map();
    let result = current;
    if (this.lastReport === undefined) {
      this.temporality = this.selectTemporality();
    } else if (this.temporality === AggregationTemporality.CUMULATIVE) {
      result = this.lastReport;
      for (const [hash, cell] of current) {
        const previous = result.get(hash);
        result.set(hash, previous === undefined ? cell : merge(previous, cell));
      }
    } else {
      for (const hash of this.lastReport.keys()) {
        const cell = current.get(hash);
        if (cell !== undefined) cell.startTime = this.lastCollectionTime;
      }
    }
    this.lastReport = result;
    this.lastCollectionTime = collectionTime;
    if (result.size === 0) return undefined;
    const dataPoints: DataPoint<Histogram>[] = [];
    for (const cell of result.values()) {
      dataPoints.push({
        attributes: cell.attributes,
        startTime: cell.startTime,
        endTime: collectionTime,
        value: {
          min: cell.hasMinMax ? cell.min : undefined,
          max: cell.hasMinMax ? cell.max : undefined,
          sum: cell.sum,
          buckets: { boundaries: this.boundaries, counts: cell.counts },
          count: cell.count,
        },
      });
    }
    return { descriptor: this.descriptor, aggregationTemporality: this.temporality!, dataPointType: DataPointType.HISTOGRAM, dataPoints };
  }

  private newCell(attributes: Attributes, startTime: HrTime): Cell {
    return { attributes, startTime, counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity, hasMinMax: false };
  }
}

/** A new cell (reported cells are never changed afterwards: an exporter may still hold them). */
function merge(previous: Cell, delta: Cell): Cell {
  const counts = previous.counts.map((count, i) => count + delta.counts[i]!);
  let min = Infinity;
  let max = -Infinity;
  if (previous.hasMinMax && delta.hasMinMax) {
    min = Math.min(previous.min, delta.min);
    max = Math.max(previous.max, delta.max);
  } else if (previous.hasMinMax) {
    min = previous.min;
    max = previous.max;
  } else if (delta.hasMinMax) {
    min = delta.min;
    max = delta.max;
  }
  return { attributes: previous.attributes, startTime: previous.startTime, counts, sum: previous.sum + delta.sum, count: previous.count + delta.count, min, max, hasMinMax: previous.hasMinMax || delta.hasMinMax };
}

/** The first boundary not below the value (its bucket), or the overflow bucket: sdk-metrics' binarySearchUB. */
function upperBoundIndex(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  let found = boundaries.length;
  while (hi >= lo) {
    const mid = lo + Math.trunc((hi - lo) / 2);
    if (boundaries[mid]! < value) lo = mid + 1;
    else {
      found = mid;
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The durations' scope first in every collection of `reader`, where it was
 * when sdk-metrics aggregated them: its meter, having no observable
 * callbacks, finished collecting before the others. A reader appends its
 * producers' scopes after the SDK's; the order shows in Prometheus' /metrics.
 */
function reportedFirst(reader: IMetricReader): void {
  const collect = reader.collect.bind(reader);
  reader.collect = async (options) => {
    const result = await collect(options);
    const scopes = result.resourceMetrics.scopeMetrics;
    const at = scopes.findIndex((scopeMetrics) => scopeMetrics.scope === DURATION_SCOPE);
    if (at > 0) scopes.unshift(...scopes.splice(at, 1));
    return result;
  };
}

/**
 * The HTTP duration histograms for one reader, handed to it as a
 * MetricProducer: each collection of the reader collects them too, in the
 * scope of the meter they used to be created on. Inactive (empty) until
 * bound to its reader.
 */
export class DurationMetricProducer implements MetricProducer {
  private readonly resource: Resource;
  private streams: readonly [server: HistogramStream, client: HistogramStream] | undefined;

  constructor(resource: Resource) {
    this.resource = resource;
  }

  /**
   * Whether the durations can be aggregated here for `reader`: not when it
   * wants another aggregation than the default explicit buckets (an
   * exponential histogram), which sdk-metrics must then make itself.
   */
  static aggregatesFor(reader: IMetricReader): boolean {
    return reader.selectAggregation(InstrumentType.HISTOGRAM).type === AggregationType.DEFAULT;
  }

  /** The reader's streams (it must be one aggregatesFor() accepts), to record into. */
  bind(reader: IMetricReader): readonly [server: HistogramStream, client: HistogramStream] {
    const limit = reader.selectCardinalityLimit?.(InstrumentType.HISTOGRAM) ?? DEFAULT_CARDINALITY_LIMIT;
    const temporality = () => reader.selectAggregationTemporality(InstrumentType.HISTOGRAM);
    this.streams = [new HistogramStream(SERVER_DURATION, limit, temporality), new HistogramStream(CLIENT_DURATION, limit, temporality)];
    reportedFirst(reader);
    return this.streams;
  }

  async collect(): Promise<CollectionResult> {
    const scopeMetrics = this.collectNow(millisToHrTime(Date.now()));
    return { resourceMetrics: { resource: this.resource, scopeMetrics: scopeMetrics === undefined ? [] : [scopeMetrics] }, errors: [] };
  }

  /** The same, synchronously (the exit flush). */
  collectNow(collectionTime: HrTime): ScopeMetrics | undefined {
    if (this.streams === undefined) return undefined;
    const metrics: HistogramMetricData[] = [];
    for (const stream of this.streams) {
      const data = stream.collect(collectionTime);
      if (data !== undefined) metrics.push(data);
    }
    return metrics.length === 0 ? undefined : { scope: DURATION_SCOPE, metrics };
  }
}
