/**
 * `node bench/http-durations.ts [--spans N] [--rounds R]`: CPU µs per ended
 * HTTP span that HttpDurationProcessor spends on the duration histograms,
 * with one OTLP-like reader (cumulative, default aggregation), variants
 * alternated in one process (medians, spread beside):
 * - as before: a new attribute set per span, sdk-metrics Histogram.record();
 * - sdk-metrics path now (kept for exponential-histogram readers): the same as before;
 * - aggregated in the processor (DurationMetricProducer), the default.
 */
import { parseArgs } from 'node:util';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { CLIENT_ATTRIBUTES, metricAttributes, SERVER_ATTRIBUTES } from '../src/metrics/duration-attributes.ts';
import { CLIENT_DURATION, DurationMetricProducer, instrumentOptions, SERVER_DURATION } from '../src/metrics/duration-histograms.ts';
import { HttpDurationProcessor } from '../src/metrics/http-duration-processor.ts';

const { values: options } = parseArgs({ options: { spans: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } });
const SPANS = Number(options.spans);
const ROUNDS = Number(options.rounds);

function reader(producer?: DurationMetricProducer) {
  return new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000, metricProducers: producer ? [producer] : [] });
}

function asBefore(): Pick<SpanProcessor, 'onEnd'> {
  const meter = new MeterProvider({ readers: [reader()] }).getMeter('@acme/otel-register');
  const server = meter.createHistogram(SERVER_DURATION.name, instrumentOptions(SERVER_DURATION));
  const client = meter.createHistogram(CLIENT_DURATION.name, instrumentOptions(CLIENT_DURATION));
  const seconds = (span: ReadableSpan) => span.duration[0] + span.duration[1] / 1e9;
  return {
    onEnd(span) {
      if (span.attributes['http.request.method'] === undefined) return;
      if (span.kind === SpanKind.SERVER) server.record(seconds(span), metricAttributes(span, SERVER_ATTRIBUTES, 500));
      else if (span.kind === SpanKind.CLIENT) client.record(seconds(span), metricAttributes(span, CLIENT_ATTRIBUTES, 400));
    },
  };
}

function sdkNow(): Pick<SpanProcessor, 'onEnd'> {
  return new HttpDurationProcessor(new MeterProvider({ readers: [reader()] }).getMeter('@acme/otel-register'));
}

function aggregated(): Pick<SpanProcessor, 'onEnd'> {
  const producer = new DurationMetricProducer(undefined as never);
  const each = reader(producer);
  const provider = new MeterProvider({ readers: [each] });
  return new HttpDurationProcessor(provider.getMeter('@acme/otel-register'), undefined, [producer.bind(each)]);
}

/** SERVER spans as an HTTP server's: a few routes, methods and statuses; a CLIENT span every fourth. */
const ROUTES = ['/users/:id', '/orders/:id', '/', '/health', '/items/:id/reviews'];
const spans: ReadableSpan[] = [];
for (let i = 0; i < 1000; i++) {
  const attributes: Attributes = {
    'http.request.method': i % 7 === 0 ? 'POST' : 'GET',
    'url.scheme': 'http',
    'url.path': `/users/${i}`,
    'server.address': 'localhost',
    'server.port': 8080,
    'network.peer.address': '127.0.0.1',
    'network.peer.port': 50000 + i,
    'network.protocol.version': '1.1',
    'user_agent.original': 'wrk/4.2.0',
    'client.address': '127.0.0.1',
    'http.route': ROUTES[i % ROUTES.length]!,
    'http.response.status_code': i % 50 === 0 ? 500 : i % 13 === 0 ? 404 : 200,
  };
  spans.push({ kind: SpanKind.SERVER, attributes, status: { code: SpanStatusCode.UNSET }, duration: [0, 200_000 + i * 997] } as unknown as ReadableSpan);
  if (i % 4 === 0) {
    const client: Attributes = { 'http.request.method': 'GET', 'server.address': 'backend', 'server.port': 9000, 'url.full': `http://backend:9000/profile/${i}`, 'http.response.status_code': 200, 'network.protocol.version': '1.1' };
    spans.push({ kind: SpanKind.CLIENT, attributes: client, status: { code: SpanStatusCode.UNSET }, duration: [0, 100_000 + i * 991] } as unknown as ReadableSpan);
  }
}

const variants = { 'as before (new attribute set, Histogram.record)': asBefore(), 'sdk path now (exponential readers)': sdkNow(), 'aggregated in the processor (default now)': aggregated() };
const results = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
function run(processor: Pick<SpanProcessor, 'onEnd'>): number {
  const before = process.cpuUsage();
  for (let i = 0; i < SPANS; i++) processor.onEnd(spans[i % spans.length]!);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / SPANS;
}
for (const processor of Object.values(variants)) run(processor);
for (let round = 0; round < ROUNDS; round++) {
  const entries = Object.entries(variants);
  for (const [name, processor] of round % 2 === 0 ? entries : entries.reverse()) results.get(name)!.push(run(processor));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`${SPANS} HTTP spans a round (1 CLIENT per 4 SERVER), ${ROUNDS} rounds, CPU µs per span, median (min–max)`);
for (const [name, values] of results) console.log(`  ${name.padEnd(50)} ${median(values).toFixed(3)} (${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`);
