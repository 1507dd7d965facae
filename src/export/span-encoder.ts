import type { Attributes, AttributeValue, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { FIXED32, FIXED64, fieldKey, LENGTH_DELIMITED, ProtobufWriter, VARINT, writeHrTime } from './protobuf-writer.ts';

/**
 * Encode at end: when a sampled span ends, its OTLP `Span` message is
 * written at once, so the queue holds a few hundred bytes per span instead of
 * the span, its attributes, events and links (which, waiting for an export
 * under load, lived long enough to be promoted to V8's old generation). The
 * export then only concatenates the fragments (see trace-request.ts).
 *
 * Field for field what upstream's ProtobufTraceSerializer writes
 * (otlp-transformer 0.301, trace/protobuf/trace-serializer): the same fields,
 * in the same order, written under the same conditions, so the request we
 * assemble is byte-identical to upstream's for the same spans
 * (test/unit/export/span-encoder.test.ts compares them).
 */

/** Proto field numbers, opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto. */
const SCOPE_SPANS_SPAN = fieldKey(2, LENGTH_DELIMITED);
const SPAN_TRACE_ID = fieldKey(1, LENGTH_DELIMITED);
const SPAN_SPAN_ID = fieldKey(2, LENGTH_DELIMITED);
const SPAN_TRACE_STATE = fieldKey(3, LENGTH_DELIMITED);
const SPAN_PARENT_SPAN_ID = fieldKey(4, LENGTH_DELIMITED);
const SPAN_NAME = fieldKey(5, LENGTH_DELIMITED);
const SPAN_KIND = fieldKey(6, VARINT);
const SPAN_START_TIME = fieldKey(7, FIXED64);
const SPAN_END_TIME = fieldKey(8, FIXED64);
const SPAN_ATTRIBUTES = 9;
const SPAN_DROPPED_ATTRIBUTES = fieldKey(10, VARINT);
const SPAN_EVENT = fieldKey(11, LENGTH_DELIMITED);
const SPAN_DROPPED_EVENTS = fieldKey(12, VARINT);
const SPAN_LINK = fieldKey(13, LENGTH_DELIMITED);
const SPAN_DROPPED_LINKS = fieldKey(14, VARINT);
const SPAN_STATUS = fieldKey(15, LENGTH_DELIMITED);
const SPAN_FLAGS = fieldKey(16, FIXED32);
const EVENT_TIME = fieldKey(1, FIXED64);
const EVENT_NAME = fieldKey(2, LENGTH_DELIMITED);
const EVENT_ATTRIBUTES = 3;
const EVENT_DROPPED_ATTRIBUTES = fieldKey(4, VARINT);
const LINK_TRACE_ID = fieldKey(1, LENGTH_DELIMITED);
const LINK_SPAN_ID = fieldKey(2, LENGTH_DELIMITED);
const LINK_TRACE_STATE = fieldKey(3, LENGTH_DELIMITED);
const LINK_ATTRIBUTES = 4;
const LINK_DROPPED_ATTRIBUTES = fieldKey(5, VARINT);
const LINK_FLAGS = fieldKey(6, FIXED32);
const STATUS_MESSAGE = fieldKey(2, LENGTH_DELIMITED);
const STATUS_CODE = fieldKey(3, VARINT);
const KEY_VALUE_KEY = fieldKey(1, LENGTH_DELIMITED);
const KEY_VALUE_VALUE = fieldKey(2, LENGTH_DELIMITED);
const ANY_STRING = fieldKey(1, LENGTH_DELIMITED);
const ANY_BOOL = fieldKey(2, VARINT);
const ANY_INT = fieldKey(3, VARINT);
const ANY_DOUBLE = fieldKey(4, FIXED64);
const ANY_ARRAY = fieldKey(5, LENGTH_DELIMITED);
const ANY_KVLIST = fieldKey(6, LENGTH_DELIMITED);
const ANY_BYTES = fieldKey(7, LENGTH_DELIMITED);
const ARRAY_VALUE = fieldKey(1, LENGTH_DELIMITED);
const KVLIST_VALUE = fieldKey(1, LENGTH_DELIMITED);
const SCOPE_NAME = fieldKey(1, LENGTH_DELIMITED);
const SCOPE_VERSION = fieldKey(2, LENGTH_DELIMITED);
const SCOPE_ATTRIBUTES = 3;
const SCOPE_DROPPED_ATTRIBUTES = fieldKey(4, VARINT);
const RESOURCE_ATTRIBUTES = 1;
const RESOURCE_DROPPED_ATTRIBUTES = fieldKey(2, VARINT);
const SCOPE_SPANS_SCOPE = fieldKey(1, LENGTH_DELIMITED);
const SCOPE_SPANS_SCHEMA_URL = fieldKey(3, LENGTH_DELIMITED);
const RESOURCE_SPANS_RESOURCE = fieldKey(1, LENGTH_DELIMITED);
const RESOURCE_SPANS_SCHEMA_URL = fieldKey(3, LENGTH_DELIMITED);

/** Span flags (trace.proto SpanFlags): the W3C trace flags in the low byte, and whether the parent (or link) is remote. */
const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

const MIN_64_BIT_INT = -(2 ** 63);
const MAX_64_BIT_INT = 2 ** 63;

/** Attribute keys kept pre-encoded; past this many distinct keys (unbounded key sets), the rest are written each time. */
const MAX_CACHED_KEYS = 4096;
/**
 * Recurring short values (a method, scheme, status, route, port) are kept
 * encoded with their key, as the whole KeyValue: up to this many values a
 * key, strings up to this length, integers of up to 32 bits and booleans.
 */
const MAX_CACHED_VALUES = 16;
const MAX_CACHED_STRING = 48;
/** A key whose values keep missing a full cache (a path, a peer port) is given up on, as lookups then cost without paying. */
const GIVE_UP_AFTER_MISSES = 256;
/** Fragments are copied into shared slabs of this size; one larger than a quarter of it gets a buffer of its own. */
const SLAB_SIZE = 64 * 1024;
const OWN_BUFFER_FROM = SLAB_SIZE / 4;
/** Empty slabs kept for reuse: 1 MiB, beyond which a burst's slabs are left to the GC. */
const MAX_POOLED_SLABS = 16;

/** Equal to no attribute value. */
const NO_VALUE = Symbol('none');

/** An attribute key, pre-encoded, with the KeyValue messages (after their field key) of the values it recently had. */
class KeyEntry {
  /** KeyValue.key: its field key, length and bytes. */
  readonly key: Buffer;
  /** Undefined once the key has shown too many different values to be worth a lookup. */
  values: Map<string | number | boolean, Buffer> | undefined = new Map();
  /** The last value found in `values`, checked first: most keys have the same value span after span. */
  lastValue: unknown = NO_VALUE;
  lastEncoded: Buffer | undefined;
  hits = 0;
  misses = 0;

  constructor(key: Buffer) {
    this.key = key;
  }
}

/** A value worth a lookup in KeyEntry.values: small, and encoded the same whenever it is equal (no NaN, no -0 apart from 0). */
function cacheableValue(value: unknown): value is string | number | boolean {
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_CACHED_STRING;
    case 'number':
      return (value | 0) === value;
    case 'boolean':
      return true;
    default:
      return false;
  }
}

/** The last id written in one role, as its length and bytes: the spans of one request share a trace id, children their parent's id. */
class IdCache {
  hex = '';
  encoded: Buffer = Buffer.alloc(0);

  remember(hex: string, writer: ProtobufWriter, at: number): void {
    const length = writer.pos - at;
    if (this.encoded.length !== length) this.encoded = Buffer.allocUnsafeSlow(length);
    writer.buffer.copy(this.encoded, 0, at, writer.pos);
    this.hex = hex;
  }
}

/** One resource as it appears in a request: its `Resource` message, encoded once its attributes are final. */
export class ResourceEntry {
  readonly resource: Resource;
  /** Field 1 of ResourceSpans (key, length, Resource). */
  private encoded: Buffer | undefined;
  /** Field 3 of ResourceSpans, or empty. */
  readonly schemaUrlField: Buffer;
  readonly scopes = new WeakMap<InstrumentationScope, ScopeEntry>();

  constructor(resource: Resource) {
    this.resource = resource;
    this.schemaUrlField = stringField(RESOURCE_SPANS_SCHEMA_URL, resource.schemaUrl);
  }

  /** Encoded at the first export, not at the first span: asynchronous resource attributes may still arrive until then. */
  resourceField(): Buffer {
    if (this.encoded !== undefined) return this.encoded;
    const writer = new ProtobufWriter(1024);
    writer.key(RESOURCE_SPANS_RESOURCE);
    const start = writer.begin();
    writeAttributes(writer, this.resource.attributes, RESOURCE_ATTRIBUTES, undefined);
    writer.key(RESOURCE_DROPPED_ATTRIBUTES);
    writer.varint(0);
    writer.end(start);
    const encoded = writer.copy();
    if (this.resource.asyncAttributesPending !== true) this.encoded = encoded;
    return encoded;
  }
}

/** One instrumentation scope of one resource: its `InstrumentationScope` message, encoded once. */
export class ScopeEntry {
  readonly resource: ResourceEntry;
  /** Field 1 of ScopeSpans (key, length, InstrumentationScope). */
  readonly scopeField: Buffer;
  /** Field 3 of ScopeSpans, or empty. */
  readonly schemaUrlField: Buffer;

  constructor(resource: ResourceEntry, scope: InstrumentationScope) {
    this.resource = resource;
    const writer = new ProtobufWriter(1024);
    writer.key(SCOPE_SPANS_SCOPE);
    const start = writer.begin();
    writer.key(SCOPE_NAME);
    writer.string(scope.name);
    if (scope.version) {
      writer.key(SCOPE_VERSION);
      writer.string(scope.version);
    }
    const { attributes, droppedAttributesCount } = scope as InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number };
    if (attributes) writeAttributes(writer, attributes, SCOPE_ATTRIBUTES, undefined);
    if (droppedAttributesCount) {
      writer.key(SCOPE_DROPPED_ATTRIBUTES);
      writer.varint(droppedAttributesCount);
    }
    writer.end(start);
    this.scopeField = writer.copy();
    this.schemaUrlField = stringField(SCOPE_SPANS_SCHEMA_URL, scope.schemaUrl);
  }
}

/** A buffer spans are copied into, one after another; back in the pool once every span in it has been exported. */
export class Slab {
  readonly buffer: Buffer;
  used = 0;
  /** Spans in it not yet released. */
  live = 0;
  /** False for a large span's own buffer: used once, left to the GC. */
  readonly reusable: boolean;

  constructor(buffer: Buffer, reusable: boolean) {
    this.buffer = buffer;
    this.reusable = reusable;
  }
}

/**
 * A span as the queue holds it: its ScopeSpans.spans field (key, length,
 * Span), `length` bytes at `start` in `slab`, and its scope. Offsets rather
 * than a Buffer view: one small object per queued span, nothing else.
 */
export class EncodedSpan {
  readonly scope: ScopeEntry;
  readonly slab: Slab;
  readonly start: number;
  readonly length: number;
  released = false;

  constructor(scope: ScopeEntry, slab: Slab, start: number, length: number) {
    this.scope = scope;
    this.slab = slab;
    this.start = start;
    this.length = length;
  }

  /** Copies the span's bytes into `target` at `at`. */
  copyTo(target: Buffer, at: number): number {
    return this.slab.buffer.copy(target, at, this.start, this.start + this.length);
  }
}

export class SpanEncoder {
  /** One writer for every span: spans end one at a time on this thread. */
  private readonly writer = new ProtobufWriter();
  private readonly resources = new WeakMap<Resource, ResourceEntry>();
  private readonly keys = new Map<string, KeyEntry>();
  private readonly traceIds = new IdCache();
  /** A parent's id: the next sibling's parent, or the parent's own id when it ends after its children. */
  private readonly parentIds = new IdCache();
  private slab = new Slab(Buffer.allocUnsafeSlow(SLAB_SIZE), true);
  /** Slabs whose spans were all exported, ready for reuse (dd-trace's reused chunk, in slab-sized pieces). */
  private readonly pool: Slab[] = [];
  /** The last span's scope: nearly every span of a burst comes from one of a few. */
  private lastScope: InstrumentationScope | undefined;
  private lastResource: Resource | undefined;
  private lastEntry: ScopeEntry | undefined;

  encode(span: ReadableSpan): EncodedSpan {
    const writer = this.writer;
    writer.pos = 0;
    writer.key(SCOPE_SPANS_SPAN);
    const start = writer.begin();
    this.writeSpan(span);
    writer.end(start);
    const scope = this.scopeOf(span);
    const length = writer.pos;
    if (length >= OWN_BUFFER_FROM) return new EncodedSpan(scope, new Slab(writer.copy(), false), 0, length);
    let slab = this.slab;
    if (slab.used + length > SLAB_SIZE) {
      const full = slab;
      slab = this.slab = this.pool.pop() ?? new Slab(Buffer.allocUnsafeSlow(SLAB_SIZE), true);
      slab.used = 0;
      if (full.live === 0) this.recycle(full);
    }
    const at = slab.used;
    writer.buffer.copy(slab.buffer, at, 0, length);
    slab.used = at + length;
    slab.live++;
    return new EncodedSpan(scope, slab, at, length);
  }

  /**
   * The processor is done with these spans (exported, or given up on): their
   * slabs may be written again once no queued span is left in them. Never
   * called for spans still queued, in flight, or handed to the exit flush.
   */
  release(spans: readonly EncodedSpan[]): void {
    for (const span of spans) {
      if (span.released) continue;
      span.released = true;
      const slab = span.slab;
      if (--slab.live === 0 && slab !== this.slab) this.recycle(slab);
    }
  }

  private recycle(slab: Slab): void {
    if (slab.reusable && this.pool.length < MAX_POOLED_SLABS) this.pool.push(slab);
  }

  private scopeOf(span: ReadableSpan): ScopeEntry {
    const scope = span.instrumentationScope;
    const resource = span.resource;
    if (scope === this.lastScope && resource === this.lastResource) return this.lastEntry!;
    let resourceEntry = this.resources.get(resource);
    if (resourceEntry === undefined) {
      resourceEntry = new ResourceEntry(resource);
      this.resources.set(resource, resourceEntry);
    }
    let entry = resourceEntry.scopes.get(scope);
    if (entry === undefined) {
      entry = new ScopeEntry(resourceEntry, scope);
      resourceEntry.scopes.set(scope, entry);
    }
    this.lastScope = scope;
    this.lastResource = resource;
    this.lastEntry = entry;
    return entry;
  }

  private writeSpan(span: ReadableSpan): void {
    const writer = this.writer;
    const context = span.spanContext();
    writer.key(SPAN_TRACE_ID);
    this.writeTraceId(context.traceId);
    writer.key(SPAN_SPAN_ID);
    if (context.spanId === this.parentIds.hex) writer.raw(this.parentIds.encoded);
    else writer.hexBytes(context.spanId);
    const traceState = context.traceState?.serialize();
    if (traceState) {
      writer.key(SPAN_TRACE_STATE);
      writer.string(traceState);
    }
    const parent = span.parentSpanContext;
    if (parent?.spanId) {
      writer.key(SPAN_PARENT_SPAN_ID);
      const parentIds = this.parentIds;
      if (parent.spanId === parentIds.hex) writer.raw(parentIds.encoded);
      else {
        const at = writer.pos;
        writer.hexBytes(parent.spanId);
        parentIds.remember(parent.spanId, writer, at);
      }
    }
    writer.key(SPAN_NAME);
    writer.string(span.name);
    const kind = span.kind == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      writer.key(SPAN_KIND);
      writer.varint(kind);
    }
    writer.key(SPAN_START_TIME);
    writeHrTime(writer, span.startTime);
    writer.key(SPAN_END_TIME);
    writeHrTime(writer, span.endTime);
    if (span.attributes) writeAttributes(writer, span.attributes, SPAN_ATTRIBUTES, this.keys);
    writer.key(SPAN_DROPPED_ATTRIBUTES);
    writer.varint(span.droppedAttributesCount);
    const events = span.events;
    for (let i = 0; i < events.length; i++) this.writeEvent(events[i]!);
    writer.key(SPAN_DROPPED_EVENTS);
    writer.varint(span.droppedEventsCount);
    const links = span.links;
    for (let i = 0; i < links.length; i++) this.writeLink(links[i]!);
    writer.key(SPAN_DROPPED_LINKS);
    writer.varint(span.droppedLinksCount);
    writeStatus(writer, span.status);
    writer.key(SPAN_FLAGS);
    writer.fixed32(spanFlags(context, parent?.isRemote));
  }

  private writeTraceId(hex: string): void {
    const writer = this.writer;
    const traceIds = this.traceIds;
    if (hex === traceIds.hex) {
      writer.raw(traceIds.encoded);
      return;
    }
    const at = writer.pos;
    writer.hexBytes(hex);
    traceIds.remember(hex, writer, at);
  }

  private writeEvent(event: TimedEvent): void {
    const writer = this.writer;
    writer.key(SPAN_EVENT);
    const start = writer.begin();
    writer.key(EVENT_TIME);
    writeHrTime(writer, event.time as HrTime);
    writer.key(EVENT_NAME);
    writer.string(event.name);
    if (event.attributes) writeAttributes(writer, event.attributes, EVENT_ATTRIBUTES, this.keys);
    writer.key(EVENT_DROPPED_ATTRIBUTES);
    writer.varint(event.droppedAttributesCount || 0);
    writer.end(start);
  }

  private writeLink(link: Link): void {
    const writer = this.writer;
    const context = link.context;
    writer.key(SPAN_LINK);
    const start = writer.begin();
    writer.key(LINK_TRACE_ID);
    writer.hexBytes(context.traceId);
    writer.key(LINK_SPAN_ID);
    writer.hexBytes(context.spanId);
    const traceState = context.traceState?.serialize();
    if (traceState) {
      writer.key(LINK_TRACE_STATE);
      writer.string(traceState);
    }
    if (link.attributes) writeAttributes(writer, link.attributes, LINK_ATTRIBUTES, this.keys);
    writer.key(LINK_DROPPED_ATTRIBUTES);
    writer.varint(link.droppedAttributesCount || 0);
    writer.key(LINK_FLAGS);
    writer.fixed32(spanFlags(context, context.isRemote));
    writer.end(start);
  }
}

/** Upstream's buildSpanFlags: never zero (HAS_IS_REMOTE is always set), so always written. */
function spanFlags(context: SpanContext, isRemote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | CONTEXT_HAS_IS_REMOTE | (isRemote ? CONTEXT_IS_REMOTE : 0);
}

/** The Status field of a span with no message and code UNSET, OK or ERROR: most spans' status, written in one copy. */
const PLAIN_STATUS_FIELDS = [0, 1, 2].map((code) => Buffer.from([SPAN_STATUS, 2, STATUS_CODE, code]));

function writeStatus(writer: ProtobufWriter, status: SpanStatus): void {
  const plain = status.message ? undefined : PLAIN_STATUS_FIELDS[status.code];
  if (plain !== undefined) {
    writer.raw(plain);
    return;
  }
  writer.key(SPAN_STATUS);
  const start = writer.begin();
  if (status.message) {
    writer.key(STATUS_MESSAGE);
    writer.string(status.message);
  }
  writer.key(STATUS_CODE);
  writer.varint(status.code);
  writer.end(start);
}

/** Repeated KeyValue `field`, in the attributes' own key order (as upstream's for…in). */
function writeAttributes(writer: ProtobufWriter, attributes: Attributes, field: number, keys: Map<string, KeyEntry> | undefined): void {
  const fieldKeyByte = fieldKey(field, LENGTH_DELIMITED);
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    writer.key(fieldKeyByte);
    let entry = keys?.get(key);
    if (entry !== undefined && value === entry.lastValue) {
      writer.raw(entry.lastEncoded!);
      continue;
    }
    const values = entry?.values;
    const cacheable = values !== undefined && cacheableValue(value);
    if (cacheable) {
      const encoded = values.get(value);
      if (encoded !== undefined) {
        entry!.hits++;
        entry!.lastValue = value;
        entry!.lastEncoded = encoded;
        writer.raw(encoded);
        continue;
      }
    }
    const start = writer.begin();
    if (entry !== undefined) writer.raw(entry.key);
    else {
      const at = writer.pos;
      writer.key(KEY_VALUE_KEY);
      writer.string(key);
      if (keys !== undefined && keys.size < MAX_CACHED_KEYS) keys.set(key, (entry = new KeyEntry(Buffer.from(writer.buffer.subarray(at, writer.pos)))));
    }
    writer.key(KEY_VALUE_VALUE);
    const valueStart = writer.begin();
    writeAnyValue(writer, value);
    writer.end(valueStart);
    writer.end(start);
    if (cacheable) remember(entry!, value, writer, start);
  }
}

/** Keeps the KeyValue just written (length and body, from `start`) for the next time the key has this value. */
function remember(entry: KeyEntry, value: string | number | boolean, writer: ProtobufWriter, start: number): void {
  const values = entry.values!;
  if (values.size < MAX_CACHED_VALUES) {
    values.set(value, Buffer.from(writer.buffer.subarray(start, writer.pos)));
    return;
  }
  if (++entry.misses > GIVE_UP_AFTER_MISSES && entry.misses > entry.hits) {
    entry.values = undefined;
    entry.lastValue = NO_VALUE;
    entry.lastEncoded = undefined;
  }
}

/** An AnyValue, as upstream's writeAnyValue (a value of no known type is an empty AnyValue). */
function writeAnyValue(writer: ProtobufWriter, value: AttributeValue | Uint8Array | Record<string, unknown> | null | undefined): void {
  switch (typeof value) {
    case 'string':
      writer.key(ANY_STRING);
      writer.string(value);
      return;
    case 'boolean':
      writer.key(ANY_BOOL);
      writer.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_64_BIT_INT && value < MAX_64_BIT_INT) {
        writer.key(ANY_INT);
        writer.varint(value);
      } else {
        writer.key(ANY_DOUBLE);
        writer.double(value);
      }
      return;
  }
  if (value instanceof Uint8Array) {
    writer.key(ANY_BYTES);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.key(ANY_ARRAY);
    const start = writer.begin();
    for (const item of value) {
      writer.key(ARRAY_VALUE);
      const itemStart = writer.begin();
      writeAnyValue(writer, item);
      writer.end(itemStart);
    }
    writer.end(start);
  } else if (typeof value === 'object' && value != null) {
    writer.key(ANY_KVLIST);
    const start = writer.begin();
    const object = value as Record<string, unknown>;
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      writer.key(KVLIST_VALUE);
      const kvStart = writer.begin();
      writer.key(KEY_VALUE_KEY);
      writer.string(key);
      writer.key(KEY_VALUE_VALUE);
      const valueStart = writer.begin();
      writeAnyValue(writer, object[key] as AttributeValue);
      writer.end(valueStart);
      writer.end(kvStart);
    }
    writer.end(start);
  }
}

/** A string field, or nothing when the string is empty or absent (upstream's `if (schemaUrl)`). */
function stringField(key: number, value: string | undefined): Buffer {
  if (!value) return Buffer.alloc(0);
  const writer = new ProtobufWriter(value.length * 3 + 8);
  writer.key(key);
  writer.string(value);
  return writer.copy();
}
