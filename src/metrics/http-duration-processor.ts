import { SpanKind, SpanStatusCode, ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Semantic conventions' advice for HTTP durations, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Span attributes carried over to http.server.request.duration, as the semantic conventions list them. */
const SERVER_ATTRIBUTES = ['http.request.method', 'url.scheme', 'http.response.status_code', 'http.route', 'network.protocol.name', 'network.protocol.version'] as const;
/** And to http.client.request.duration. */
const CLIENT_ATTRIBUTES = ['http.request.method', 'server.address', 'server.port', 'url.scheme', 'http.response.status_code', 'network.protocol.name', 'network.protocol.version'] as const;

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

export class HttpDurationProcessor implements SpanProcessor {
  private readonly server: Histogram;
  private readonly client: Histogram;
  private readonly durations: RecordedDurations;

  constructor(meter: Meter, durations: RecordedDurations = new RecordedDurations()) {
    this.durations = durations;
    const advice = { explicitBucketBoundaries: HTTP_DURATION_BUCKETS };
    this.server = meter.createHistogram('http.server.request.duration', { description: 'Duration of HTTP server requests.', unit: 's', valueType: ValueType.DOUBLE, advice });
    this.client = meter.createHistogram('http.client.request.duration', { description: 'Duration of HTTP client requests.', unit: 's', valueType: ValueType.DOUBLE, advice });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes;
    // Stable HTTP semconv spans only: a span of another protocol (gRPC, messaging) also has kind SERVER/CLIENT.
    if (attributes['http.request.method'] === undefined) return;
    if (span.kind === SpanKind.SERVER) this.server.record(seconds(span), metricAttributes(span, SERVER_ATTRIBUTES, 500));
    else if (span.kind === SpanKind.CLIENT) this.client.record(seconds(span), metricAttributes(span, CLIENT_ATTRIBUTES, 400));
    else return;
    this.durations.recorded++;
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function seconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}

/**
 * error.type as the conventions define it: the span's own error.type (an
 * exception or a connection failure), else the status code when it counts as
 * an error (5xx on the server, 4xx and 5xx on the client).
 */
function metricAttributes(span: ReadableSpan, keys: readonly string[], firstErrorStatus: number): Attributes {
  const attributes: Attributes = {};
  for (const key of keys) {
    const value = span.attributes[key];
    if (value !== undefined) attributes[key] = value;
  }
  // network.protocol.name is only required when it is not http.
  if (attributes['network.protocol.name'] === 'http') delete attributes['network.protocol.name'];
  const status = span.attributes['http.response.status_code'];
  const errorType = span.attributes['error.type'];
  if (errorType !== undefined) attributes['error.type'] = errorType;
  else if (typeof status === 'number' && status >= firstErrorStatus) attributes['error.type'] = String(status);
  else if (status === undefined && span.status.code === SpanStatusCode.ERROR) attributes['error.type'] = '_OTHER';
  return attributes;
}
