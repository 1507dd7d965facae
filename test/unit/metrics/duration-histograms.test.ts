/**
 * The HTTP duration histograms aggregated by HttpDurationProcessor itself
 * (DurationMetricProducer) against the same spans recorded on sdk-metrics'
 * own Histogram, collection after collection: the points must be the same,
 * field by field (descriptor, temporality, attributes and their order, start
 * and end times, count, sum, min, max, buckets), with the clock held still
 * so both read the same times.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, InstrumentType, MeterProvider, MetricReader, type AggregationOption, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { collectNow } from '../../../src/metrics/exit-collection.ts';
import { CLIENT_ATTRIBUTES, metricAttributes, SERVER_ATTRIBUTES } from '../../../src/metrics/duration-attributes.ts';
import { CLIENT_DURATION, DurationMetricProducer, instrumentOptions, SERVER_DURATION } from '../../../src/metrics/duration-histograms.ts';
import { HttpDurationProcessor } from '../../../src/metrics/http-duration-processor.ts';

const resource = resourceFromAttributes({ 'service.name': 'durations' });
const realNow = Date.now;
let clock = 1_700_000_000_123;
Date.now = () => clock;
afterEach(() => {
  clock += 1;
});
process.on('exit', () => {
  Date.now = realNow;
});

interface ReaderOptions {
  temporality?: AggregationTemporality;
  cardinalityLimit?: number;
  aggregation?: AggregationOption;
}

class TestReader extends MetricReader {
  constructor(options: ReaderOptions, producer?: DurationMetricProducer) {
    super({
      aggregationTemporalitySelector: () => options.temporality ?? AggregationTemporality.CUMULATIVE,
      aggregationSelector: () => options.aggregation ?? { type: AggregationType.DEFAULT },
      cardinalitySelector: options.cardinalityLimit === undefined ? undefined : () => options.cardinalityLimit!,
      metricProducers: producer === undefined ? [] : [producer],
    });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** HttpDurationProcessor.onEnd() as it was: a new attribute set for every span, recorded on sdk-metrics Histograms. */
function processorAsItWas(provider: MeterProvider) {
  const meter = provider.getMeter('@acme/otel-register');
  const server = meter.createHistogram(SERVER_DURATION.name, instrumentOptions(SERVER_DURATION));
  const client = meter.createHistogram(CLIENT_DURATION.name, instrumentOptions(CLIENT_DURATION));
  const seconds = (span: ReadableSpan) => span.duration[0] + span.duration[1] / 1e9;
  return {
    onEnd(span: ReadableSpan) {
      if (span.attributes['http.request.method'] === undefined) return;
      if (span.kind === SpanKind.SERVER) server.record(seconds(span), metricAttributes(span, SERVER_ATTRIBUTES, 500));
      else if (span.kind === SpanKind.CLIENT) client.record(seconds(span), metricAttributes(span, CLIENT_ATTRIBUTES, 400));
    },
  };
}

/**
 * Meters around ours, as in the pipeline: the runtime metrics' (observable
 * callbacks) made before it, an instrumentation's (synchronous) after: the
 * order of the scopes in a collection must stay as it was too.
 */
function otherMeters(provider: MeterProvider, build: () => void): () => void {
  provider.getMeter('runtime-like').createObservableGauge('runtime.gauge').addCallback((result) => result.observe(1));
  build();
  const counter = provider.getMeter('instrumentation-like').createCounter('requests');
  return () => counter.add(1);
}

/** The processor as it was (sdk-metrics Histograms), and as it is (aggregated here), with one reader per options. */
function both(readers: ReaderOptions[]) {
  const sdkReaders = readers.map((options) => new TestReader(options));
  const sdkProvider = new MeterProvider({ resource, readers: sdkReaders });
  let sdk!: ReturnType<typeof processorAsItWas>;
  const countSdk = otherMeters(sdkProvider, () => (sdk = processorAsItWas(sdkProvider)));
  const producers = readers.map(() => new DurationMetricProducer(resource));
  const ownReaders = readers.map((options, i) => new TestReader(options, producers[i]));
  const ownProvider = new MeterProvider({ resource, readers: ownReaders });
  let own!: HttpDurationProcessor;
  const countOwn = otherMeters(ownProvider, () => {
    const streams = ownReaders.map((reader, i) => producers[i]!.bind(reader));
    own = new HttpDurationProcessor(ownProvider.getMeter('@acme/otel-register'), undefined, streams);
  });
  return {
    end(span: ReadableSpan) {
      sdk.onEnd(span);
      own.onEnd(span);
      countSdk();
      countOwn();
    },
    /** Collects every reader of both and compares them. */
    async compare(what: string): Promise<ScopeMetrics[][]> {
      const collected: ScopeMetrics[][] = [];
      for (let i = 0; i < readers.length; i++) {
        const expected = (await sdkReaders[i]!.collect()).resourceMetrics.scopeMetrics;
        const actual = (await ownReaders[i]!.collect()).resourceMetrics.scopeMetrics;
        assert.deepStrictEqual(actual, expected, `${what}, reader ${i}`);
        collected.push(actual);
      }
      return collected;
    },
    producers,
    sdkReaders,
    ownReaders,
  };
}

function span(kind: SpanKind, attributes: Attributes, durationNanos: number, status = SpanStatusCode.UNSET): ReadableSpan {
  return { kind, attributes, status: { code: status }, duration: [Math.floor(durationNanos / 1e9), durationNanos % 1e9] } as unknown as ReadableSpan;
}

const server = (attributes: Attributes, ms: number, status?: SpanStatusCode) =>
  span(SpanKind.SERVER, { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1', ...attributes }, ms * 1e6, status);
const client = (attributes: Attributes, ms: number, status?: SpanStatusCode) =>
  span(SpanKind.CLIENT, { 'http.request.method': 'GET', 'server.address': 'backend', 'server.port': 9000, 'url.scheme': 'http', ...attributes }, ms * 1e6, status);

/** Every way the attribute set is made: error.type's sources, http dropped as protocol name, values of each type, bucket edges. */
function variedSpans(round: number): ReadableSpan[] {
  return [
    server({ 'http.response.status_code': 200, 'http.route': '/users/:id' }, 3),
    server({ 'http.response.status_code': 200, 'http.route': '/users/:id' }, 5), // on a boundary: its own bucket
    server({ 'http.response.status_code': 200, 'http.route': '/users/:id', 'network.protocol.name': 'http' }, 12), // same set as without
    server({ 'http.response.status_code': 200, 'http.route': '/users/:id', 'network.protocol.name': 'spdy' }, 12),
    server({ 'http.response.status_code': '200', 'http.route': '/users/:id' }, 7), // a string status is another set
    server({ 'http.response.status_code': 503, 'http.route': '/boom' }, 20_000), // above the last boundary
    server({ 'http.response.status_code': 500, 'http.route': '/boom', 'error.type': 'Error' }, 30),
    server({ 'http.response.status_code': 500, 'http.route': '/boom' }, 31),
    server({ 'http.route': '/aborted' }, 1, SpanStatusCode.ERROR), // _OTHER
    server({ 'http.route': '/aborted' }, 1),
    server({ 'http.response.status_code': 404 }, 0), // no route, zero duration
    server({ 'http.response.status_code': 200, 'http.route': `/round/${round % 2}` }, 42 + round),
    server({ 'http.response.status_code': 200, 'http.route': 'a|s3:b' }, 2), // separators inside values
    server({ 'http.response.status_code': 200, 'http.route': 'a', 'url.scheme': '|s3:b' }, 2),
    server({ 'http.response.status_code': 200, 'http.route': 'x|sy', 'network.protocol.name': 'z' }, 2),
    server({ 'http.response.status_code': 200, 'http.route': 'x', 'network.protocol.name': 'y|sz' }, 2),
    client({ 'http.response.status_code': 200 }, 8),
    client({ 'http.response.status_code': 404 }, 9), // 4xx is an error on the client
    client({ 'server.address': ['a', 'b'], 'http.response.status_code': 200 }, 10), // an array value
    client({ 'server.address': ['a', 'b'], 'http.response.status_code': 200 }, 11), // another array, equal
    client({ 'server.port': true, 'error.type': 'ECONNREFUSED' }, 2, SpanStatusCode.ERROR),
    span(SpanKind.INTERNAL, { 'http.request.method': 'GET' }, 1e6), // neither server nor client
    span(SpanKind.SERVER, { 'rpc.system': 'grpc' }, 1e6), // not HTTP
  ];
}

describe('HTTP duration histograms aggregated by the span processor', () => {
  for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
    const name = temporality === AggregationTemporality.CUMULATIVE ? 'cumulative' : 'delta';
    it(`${name}: the points sdk-metrics makes, collection after collection`, async () => {
      const pipelines = both([{ temporality }]);
      await pipelines.compare('nothing recorded yet');
      for (const each of variedSpans(0)) pipelines.end(each);
      clock += 1000;
      const [scopes] = await pipelines.compare('first collection');
      assert.deepEqual(scopes!.map((scope) => scope.scope.name), ['@acme/otel-register', 'instrumentation-like', 'runtime-like'], 'the order is compared too');
      assert.equal(scopes![0]!.metrics.length, 2);
      clock += 1000;
      // A set recorded in the first interval only; one new; the rest again.
      pipelines.end(server({ 'http.response.status_code': 200, 'http.route': '/new' }, 1));
      clock += 500;
      for (const each of variedSpans(1).slice(0, 4)) pipelines.end(each);
      clock += 1000;
      await pipelines.compare('second collection');
      await pipelines.compare('nothing new');
      clock += 1000;
      for (const each of variedSpans(2)) pipelines.end(each);
      await pipelines.compare('third collection');
    });
  }

  it('a duration that is not a number makes an empty point; a negative one is dropped', async () => {
    const pipelines = both([{}]);
    pipelines.end(span(SpanKind.SERVER, { 'http.request.method': 'GET' }, NaN));
    pipelines.end(span(SpanKind.SERVER, { 'http.request.method': 'POST' }, -5e6));
    const [[scope]] = await pipelines.compare('NaN and negative');
    assert.equal(scope!.scope.name, '@acme/otel-register');
    assert.equal(scope!.metrics[0]!.dataPoints.length, 1);
  });

  it('the cardinality limit: new sets of an interval beyond it go to the overflow set', async () => {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      const pipelines = both([{ temporality, cardinalityLimit: 4 }]);
      for (let i = 0; i < 10; i++) pipelines.end(server({ 'http.response.status_code': 200, 'http.route': `/r${i}` }, i));
      const [[scope]] = await pipelines.compare('over the limit');
      assert.deepEqual(scope!.metrics[0]!.dataPoints.at(-1)!.attributes, { 'otel.metric.overflow': true });
      for (let i = 5; i < 12; i++) pipelines.end(server({ 'http.response.status_code': 200, 'http.route': `/r${i}` }, i));
      await pipelines.compare('next interval, over the limit again');
    }
  });

  it('more distinct span values than the attribute-set cache holds: the sets stay right', async () => {
    const pipelines = both([{ cardinalityLimit: 20_000 }]);
    for (let round = 0; round < 2; round++) for (let i = 0; i < 6000; i++) pipelines.end(server({ 'http.response.status_code': 200 + (i % 3), 'http.route': `/r${i % 3000}` }, i % 40));
    const [[scope]] = await pipelines.compare('after the cache started over');
    assert.equal(scope!.metrics[0]!.dataPoints.length, 3000);
  });

  it('two readers, cumulative and delta, each their own points', async () => {
    const pipelines = both([{ temporality: AggregationTemporality.CUMULATIVE }, { temporality: AggregationTemporality.DELTA }]);
    for (const each of variedSpans(0)) pipelines.end(each);
    await pipelines.compare('first');
    clock += 10;
    for (const each of variedSpans(1)) pipelines.end(each);
    await pipelines.compare('second');
  });

  it('reported points are not changed by later records (an exporter may still hold them)', async () => {
    const pipelines = both([{ temporality: AggregationTemporality.CUMULATIVE }]);
    pipelines.end(server({ 'http.response.status_code': 200 }, 3));
    const [[scope]] = await pipelines.compare('first');
    const before = structuredClone(scope);
    pipelines.end(server({ 'http.response.status_code': 200 }, 3));
    await pipelines.compare('second');
    pipelines.end(server({ 'http.response.status_code': 200 }, 3));
    await pipelines.compare('third');
    assert.deepStrictEqual(scope, before);
  });

  it('the exit flush reads the same points synchronously', async () => {
    const pipelines = both([{}]);
    for (const each of variedSpans(0)) pipelines.end(each);
    const expected = collectNow(pipelines.sdkReaders[0]!);
    assert.ok(expected);
    assert.deepStrictEqual(collectNow(pipelines.ownReaders[0]!, pipelines.producers[0]), expected);
    assert.deepStrictEqual(collectNow(pipelines.ownReaders[0]!, pipelines.producers[0]), collectNow(pipelines.sdkReaders[0]!), 'and again, nothing new');
    pipelines.end(client({}, 1));
    await pipelines.compare('then the next collection');
  });

  it('the SDK path (kept for exponential histograms) records the same points', async () => {
    const readerOptions = { temporality: AggregationTemporality.CUMULATIVE };
    const reference = new TestReader(readerOptions);
    const asItWas = processorAsItWas(new MeterProvider({ resource, readers: [reference] }));
    const reader = new TestReader(readerOptions);
    const processor = new HttpDurationProcessor(new MeterProvider({ resource, readers: [reader] }).getMeter('@acme/otel-register'));
    for (const each of [...variedSpans(0), ...variedSpans(1)]) {
      asItWas.onEnd(each);
      processor.onEnd(each);
    }
    assert.deepStrictEqual((await reader.collect()).resourceMetrics.scopeMetrics, (await reference.collect()).resourceMetrics.scopeMetrics);
  });

  it('a reader that wants exponential histograms leaves the aggregation to sdk-metrics', () => {
    const producer = new DurationMetricProducer(resource);
    const reader = new TestReader({ aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }, producer);
    new MeterProvider({ readers: [reader] });
    assert.equal(DurationMetricProducer.aggregatesFor(reader), false);
    assert.equal(DurationMetricProducer.aggregatesFor(new TestReader({})), true);
    assert.equal(reader.selectAggregation(InstrumentType.HISTOGRAM).type, AggregationType.EXPONENTIAL_HISTOGRAM);
  });
});
