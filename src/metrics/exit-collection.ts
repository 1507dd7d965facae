import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { InstrumentationScope } from '@opentelemetry/core';
import { DURATION_SCOPE, type DurationMetricProducer } from './duration-histograms.ts';

/** A collection reduced to data, so it can cross to the exit-flush worker (structured clone copies no getters). */
export interface PlainResourceMetrics {
  resource: { attributes: Record<string, unknown>; schemaUrl?: string };
  scopeMetrics: { scope: InstrumentationScope; metrics: MetricData[] }[];
}

/** The parts of sdk-metrics 3.1 we read (pinned; test/unit/metrics/exit-collection.test.ts checks them). */
interface ReaderInternals {
  _sdkMetricProducer?: {
    _sharedState: {
      resource: ResourceMetrics['resource'];
      meterSharedStates: Map<string, { _instrumentationScope: InstrumentationScope; metricStorageRegistry: { getStorages(collector: unknown): { collect(collector: unknown, time: [number, number]): MetricData | undefined }[] } }>;
    };
  };
}

/**
 * The reader's collection, synchronously, for the 'exit' event (process.exit(),
 * an uncaught exception): the SDK's collect() is async and no promise settles
 * once 'exit' runs. What the synchronous instruments recorded since the last
 * collection (the HTTP durations, GC) is read straight from their storage, as
 * collect() itself does after running the observable callbacks; observable
 * instruments report what they last observed. Undefined when there is
 * nothing to send or the SDK's internals are not what we expect.
 */
export function collectNow(reader: object, durations?: DurationMetricProducer): PlainResourceMetrics | undefined {
  try {
    const collector = (reader as unknown as ReaderInternals)._sdkMetricProducer;
    if (collector === undefined) return undefined;
    const now = Date.now();
    const time: [number, number] = [Math.floor(now / 1000), (now % 1000) * 1e6];
    const scopeMetrics: PlainResourceMetrics['scopeMetrics'] = [];
    let durationsPending = durations !== undefined;
    const addDurations = () => {
      durationsPending = false;
      const own = durations!.collectNow(time);
      if (own !== undefined) scopeMetrics.push({ scope: { ...own.scope }, metrics: own.metrics });
    };
    for (const meter of collector._sharedState.meterSharedStates.values()) {
      // In its meter's place, where sdk-metrics reported the durations before they were aggregated apart.
      if (durationsPending && meter._instrumentationScope.name === DURATION_SCOPE.name) addDurations();
      const metrics = meter.metricStorageRegistry
        .getStorages(collector)
        .map((storage) => storage.collect(collector, time))
        .filter((data): data is MetricData => data !== undefined && data !== null && data.dataPoints.length > 0);
      if (metrics.length > 0) scopeMetrics.push({ scope: { ...meter._instrumentationScope }, metrics });
    }
    if (durationsPending) addDurations();
    if (scopeMetrics.length === 0) return undefined;
    const resource = collector._sharedState.resource;
    return { resource: { attributes: { ...resource.attributes }, schemaUrl: resource.schemaUrl }, scopeMetrics };
  } catch {
    return undefined;
  }
}
