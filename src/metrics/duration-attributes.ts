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

/** A step of the cache: one span value read, the next step by the value of the next. */
interface Node {
  readonly next: Map<unknown, Node>;
  /** Array values, by their JSON (a Map would tell equal arrays apart). */
  arrays?: Map<string, Node>;
  set?: AttributeSet;
}

const newNode = (): Node => ({ next: new Map() });

/**
 * The attribute set of one duration histogram for an ended span, cached by
 * the few span values it is made from (a tree of Maps, one level per value
 * read, so a lookup allocates nothing): a request with a route, method and
 * status seen before costs a few Map lookups, not a new attributes object
 * and a sorted JSON hash (what Histogram.record() costs per call). Two
 * inputs may make the same set (network.protocol.name 'http' or absent):
 * their sets have the same hash, which is what streams are keyed by.
 */
export class DurationAttributeSets {
  private readonly keys: readonly string[];
  /** keys, and error.type: everything metricAttributes() reads besides the span status. */
  private readonly inputs: readonly string[];
  private readonly firstErrorStatus: number;
  private ok = newNode();
  private error = newNode();
  private cached = 0;

  constructor(keys: readonly string[], firstErrorStatus: number) {
    this.keys = keys;
    this.inputs = [...keys, 'error.type'];
    this.firstErrorStatus = firstErrorStatus;
  }

  of(span: ReadableSpan): AttributeSet {
    const attributes = span.attributes;
    let node = span.status.code === SpanStatusCode.ERROR ? this.error : this.ok;
    for (let i = 0; i < this.inputs.length; i++) node = this.child(node, attributes[this.inputs[i]!]);
    if (node.set === undefined) {
      const metric = metricAttributes(span, this.keys, this.firstErrorStatus);
      node.set = { attributes: metric, hash: hashAttributes(metric) };
    }
    return node.set;
  }

  private child(node: Node, value: AttributeValue | undefined): Node {
    let map = node.next;
    let key: unknown = value;
    if (typeof value === 'object' && value !== null) {
      map = node.arrays ??= new Map();
      key = JSON.stringify(value);
    }
    let child = map.get(key);
    if (child === undefined) {
      if (++this.cached > MAX_CACHED) {
        this.cached = 0;
        this.ok = newNode();
        this.error = newNode();
      }
      map.set(key, (child = newNode()));
    }
    return child;
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
