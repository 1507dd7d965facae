import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationTemporality, AggregationType, InMemoryMetricExporter, InstrumentType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { formatMetricTable } from '../../../src/metrics/console-metric-exporter.ts';
import { collectNow } from '../../../src/metrics/exit-collection.ts';
import { startRuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { aggregationFor, temporalityFor } from '../../../src/metrics/temporality.ts';

function providerWithReader() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return { provider, reader };
}

describe('metrics', () => {
  it('temporality preference as the OTLP exporter spec defines it', () => {
    const kinds = [InstrumentType.COUNTER, InstrumentType.HISTOGRAM, InstrumentType.OBSERVABLE_COUNTER, InstrumentType.UP_DOWN_COUNTER, InstrumentType.OBSERVABLE_UP_DOWN_COUNTER, InstrumentType.OBSERVABLE_GAUGE];
    const { DELTA: D, CUMULATIVE: C } = AggregationTemporality;
    assert.deepEqual(kinds.map((k) => temporalityFor('cumulative', k)), [C, C, C, C, C, C]);
    assert.deepEqual(kinds.map((k) => temporalityFor('delta', k)), [D, D, D, C, C, C]);
    assert.deepEqual(kinds.map((k) => temporalityFor('lowmemory', k)), [D, D, C, C, C, C]);
    assert.equal(aggregationFor('base2_exponential_bucket_histogram', InstrumentType.HISTOGRAM).type, AggregationType.EXPONENTIAL_HISTOGRAM);
    assert.equal(aggregationFor('base2_exponential_bucket_histogram', InstrumentType.COUNTER).type, AggregationType.DEFAULT);
  });

  it('collectNow reads what synchronous instruments recorded, without the event loop, as data a worker can receive', () => {
    const { provider, reader } = providerWithReader();
    provider.getMeter('test').createHistogram('h', { unit: 's' }).record(0.2, { route: '/x' });
    const collection = collectNow(reader);
    assert.ok(collection, 'something collected (sdk-metrics internals as expected)');
    const copy = structuredClone(collection);
    const metric = copy.scopeMetrics[0]!.metrics[0]!;
    assert.equal(metric.descriptor.name, 'h');
    assert.deepEqual(metric.dataPoints[0]!.attributes, { route: '/x' });
    assert.equal((metric.dataPoints[0]!.value as { count: number }).count, 1);
    assert.equal(collectNow(providerWithReader().reader), undefined, 'nothing recorded: nothing to send');
  });

  it("startRuntimeMetrics finds every collector of instrumentation-runtime-node and they report", async () => {
    const { provider, reader } = providerWithReader();
    assert.equal(startRuntimeMetrics(provider), 6);
    // The event-loop delay histogram needs a few samples (10 ms apart) before it reports.
    for (let i = 0; i < 30; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const { resourceMetrics } = await reader.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name));
    for (const name of ['nodejs.eventloop.delay.p99', 'nodejs.eventloop.utilization', 'v8js.memory.heap.used', 'nodejs.eventloop.time']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    await provider.shutdown();
  });

  it('the console table: one row per data point, aligned, histograms as count/sum/non-empty buckets', async () => {
    const { provider, reader } = providerWithReader();
    const meter = provider.getMeter('t');
    const histogram = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.005, 0.01, 0.1] } });
    histogram.record(0.004, { 'http.route': '/a' });
    histogram.record(0.05, { 'http.route': '/a' });
    histogram.record(3, { 'http.route': '/a' });
    meter.createCounter('jobs').add(2);
    const { resourceMetrics } = await reader.collect();
    assert.equal(
      formatMetricTable(resourceMetrics),
      [
        'metric                          attributes     value',
        'http.server.request.duration s  http.route=/a  count=3 sum=3.054 buckets=[≤0.005:1 ≤0.1:1 >0.1:1]',
        'jobs                            -              2',
        '',
        '',
      ].join('\n'),
    );
  });
});
