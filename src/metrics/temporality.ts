import { AggregationTemporality, AggregationType, InstrumentType, type AggregationOption } from '@opentelemetry/sdk-metrics';
import type { HistogramAggregation, TemporalityPreference } from '../config/metrics.ts';

/**
 * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE as the OTLP exporter spec
 * defines it: `delta` makes counters and histograms (sync and observable
 * counters) delta, `lowmemory` only the synchronous counter and histogram;
 * up-down counters stay cumulative in both.
 */
export function temporalityFor(preference: TemporalityPreference, instrument: InstrumentType): AggregationTemporality {
  if (preference === 'cumulative') return AggregationTemporality.CUMULATIVE;
  switch (instrument) {
    case InstrumentType.COUNTER:
    case InstrumentType.HISTOGRAM:
      return AggregationTemporality.DELTA;
    case InstrumentType.OBSERVABLE_COUNTER:
      return preference === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    default:
      return AggregationTemporality.CUMULATIVE;
  }
}

/** OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: histograms only; an instrument's advice still applies with the explicit default. */
export function aggregationFor(histogram: HistogramAggregation, instrument: InstrumentType): AggregationOption {
  if (instrument === InstrumentType.HISTOGRAM && histogram === 'base2_exponential_bucket_histogram') return { type: AggregationType.EXPONENTIAL_HISTOGRAM };
  return { type: AggregationType.DEFAULT };
}
