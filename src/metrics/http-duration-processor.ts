import { SpanKind, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { CLIENT_ATTRIBUTES, DurationAttributeSets, metricAttributes, SERVER_ATTRIBUTES } from './duration-attributes.ts';
import { CLIENT_DURATION, instrumentOptions, SERVER_DURATION, type DurationInstrument, type DurationSink, type HistogramStream } from './duration-histograms.ts';

/**
 * Request durations recorded, and how many of them an export has taken: the
 * exit flush sends a last collection only for durations recorded since (as it
 * sends only spans ended since the last export), so a worker thread and an
 * exporter are not started for nothing, and an export still waiting on a hung
 * collector is not followed by a second wait.
 */
export class RecordedDurations {
  recorded = 0;
  sent = 0;

  get unsent(): boolean {
    return this.recorded !== this.sent;
  }
}

/**
 * http.server.request.duration and http.client.request.duration, derived
 * from the SERVER and CLIENT spans the HTTP instrumentations already measure:
 * one histogram record per ended span instead of a second clock reading and
 * attribute set per request. Because the span is read at its end, the
 * metric gets the http.route a framework instrumentation set on the span,
 * whichever framework it was.
 *
 * Only recording spans reach a span processor: RecordHttpSpansSampler keeps
 * the HTTP ones recording when the configured sampler drops them.
 */
export class HttpDurationProcessor implements SpanProcessor {
  private readonly server: Recorder;
  private readonly client: Recorder;
  private readonly durations: RecordedDurations;

  /**
   * `streams`: the histograms of every reader, aggregated here (see
   * DurationMetricProducer), one per reader and instrument. Without them the
   * durations are recorded on sdk-metrics Histograms of `meter`, which hash
   * the attribute set at every record.
   */
  constructor(meter: Meter, durations: RecordedDurations = new RecordedDurations(), streams?: readonly (readonly [server: HistogramStream, client: HistogramStream])[]) {
    this.durations = durations;
    if (streams === undefined) {
      this.server = sdkHistogram(meter, SERVER_DURATION, SERVER_ATTRIBUTES, 500);
      this.client = sdkHistogram(meter, CLIENT_DURATION, CLIENT_ATTRIBUTES, 400);
    } else {
      this.server = aggregated(fanOut(streams.map(([server]) => server)), SERVER_ATTRIBUTES, 500);
      this.client = aggregated(fanOut(streams.map(([, client]) => client)), CLIENT_ATTRIBUTES, 400);
    }
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    // Stable HTTP semconv spans only: a span of another protocol (gRPC, messaging) also has kind SERVER/CLIENT.
    if (span.attributes['http.request.method'] === undefined) return;
    if (span.kind === SpanKind.SERVER) this.server(span, seconds(span));
    else if (span.kind === SpanKind.CLIENT) this.client(span, seconds(span));
    else return;
    this.durations.recorded++;
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Records one HTTP span's duration, with the attributes its instrument takes (firstErrorStatus: see metricAttributes). */
type Recorder = (span: ReadableSpan, seconds: number) => void;

function sdkHistogram(meter: Meter, instrument: DurationInstrument, keys: readonly string[], firstErrorStatus: number): Recorder {
  const histogram = meter.createHistogram(instrument.name, instrumentOptions(instrument));
  // sdk-metrics hashes whatever it is given: a cached set would only add the cache's cost.
  return (span, value) => histogram.record(value, metricAttributes(span, keys, firstErrorStatus));
}

function aggregated(sink: DurationSink, keys: readonly string[], firstErrorStatus: number): Recorder {
  const sets = new DurationAttributeSets(keys, firstErrorStatus);
  return (span, value) => sink.record(sets.of(span), value);
}

function fanOut(sinks: readonly DurationSink[]): DurationSink {
  if (sinks.length === 1) return sinks[0]!;
  return {
    record(set, value) {
      for (const sink of sinks) sink.record(set, value);
    },
  };
}

function seconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}
