import { SpanStatusCode, type Attributes, type AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** Span attributes carried over to http.server.request.duration, as the semantic conventions list them. */
export const SERVER_ATTRIBUTES = ['http.request.method', 'url.scheme', 'http.response.status_code', 'http.route', 'network.protocol.name', 'network.protocol.version'] as const;
/** And to http.client.request.duration. */
export const CLIENT_ATTRIBUTES = ['http.request.method', 'server.address', 'server.port', 'url.scheme', 'http.response.status_code', 'network.protocol.name', 'network.protocol.version'] as const;

/** A metric attribute set, with the key sdk-metrics would file it under. */
export interface AttributeSet {
  readonly attributes: Attributes;
  /** sdk-metrics' hashAttributes(): two sets are one stream exactly when these are equal. */
  readonly hash: string;
}

/** Beyond this many distinct span inputs, the cache starts over (high-cardinality inputs must not grow it). */
const MAX_CACHED = 4096;

/**
 * The attribute set of one duration histogram for an ended span, cached by
 * the few span values it is made from: a request with a route, method and
 * status seen before costs one short string and a Map lookup, not a new
 * attributes object and a sorted JSON hash (what Histogram.record() costs
 * per call).
 */
export class DurationAttributeSets {
  private readonly keys: readonly string[];
  private readonly firstErrorStatus: number;
  private readonly cache = new Map<string, AttributeSet>();

  constructor(keys: readonly string[], firstErrorStatus: number) {
    this.keys = keys;
    this.firstErrorStatus = firstErrorStatus;
  }

  of(span: ReadableSpan): AttributeSet {
    const key = inputKey(span, this.keys);
    let set = this.cache.get(key);
    if (set === undefined) {
      const attributes = metricAttributes(span, this.keys, this.firstErrorStatus);
      set = { attributes, hash: hashAttributes(attributes) };
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, set);
    }
    return set;
  }
}

/**
 * Everything metricAttributes() reads, written so that different inputs give
 * different strings (strings length-prefixed, types tagged). Two inputs may
 * still make the same attribute set (network.protocol.name 'http' or absent):
 * their sets then have the same hash, which is what streams are keyed by.
 */
function inputKey(span: ReadableSpan, keys: readonly string[]): string {
  const attributes = span.attributes;
  let key = span.status.code === SpanStatusCode.ERROR ? 'E' : '-';
  for (let i = 0; i < keys.length; i++) key += part(attributes[keys[i]!]);
  return key + part(attributes['error.type']);
}

function part(value: AttributeValue | undefined): string {
  switch (typeof value) {
    case 'string':
      return `|s${value.length}:${value}`;
    case 'number':
      return `|n${value}`;
    case 'boolean':
      return value ? '|t' : '|f';
    case 'undefined':
      return '|u';
    default: {
      const json = JSON.stringify(value);
      return `|j${json.length}:${json}`;
    }
  }
}

/**
 * error.type as the conventions define it: the span's own error.type (an
 * exception or a connection failure), else the status code when it counts as
 * an error (5xx on the server, 4xx and 5xx on the client).
 */
export function metricAttributes(span: ReadableSpan, keys: readonly string[], firstErrorStatus: number): Attributes {
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

/** sdk-metrics 3.1's hashAttributes (src/utils.ts), which it keys its streams by. */
export function hashAttributes(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  return JSON.stringify(keys.sort().map((key) => [key, attributes[key]]));
}
