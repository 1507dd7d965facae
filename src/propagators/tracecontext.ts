import {
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type TraceState,
} from '@opentelemetry/api';
import { isTracingSuppressed, TraceState as CoreTraceState } from '@opentelemetry/core';

export const TRACE_PARENT_HEADER = 'traceparent';
export const TRACE_STATE_HEADER = 'tracestate';

const VERSION = '00';
/** Spec, "version": ff is an invalid version. */
const INVALID_VERSION = 'ff';
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
/**
 * The spec's version-format, lowercase hex only (uppercase is invalid). The
 * trailing `-...` group is only legal for versions above 00 ("Versioning of
 * traceparent": read the first four fields of a higher version when they are
 * followed by a dash or the end of the value).
 */
const TRACE_PARENT_REGEX = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/**
 * Level 2 defines sampled (0x01) and random (0x02); every other bit "MUST be
 * set to zero" by vendors, so unknown bits are neither kept nor sent.
 */
const KNOWN_TRACE_FLAGS = 0x03;

/** Spec, "tracestate limits": at most 32 list members. */
const MAX_TRACE_STATE_MEMBERS = 32;
/** The spec's simple-key / multi-tenant-key (tenant-id "@" system-id). */
const TRACE_STATE_KEY = '[a-z][a-z0-9_\\-*/]{0,255}|[a-z0-9][a-z0-9_\\-*/]{0,240}@[a-z][a-z0-9_\\-*/]{0,13}';
/** value = 0*255(chr) nblk-chr: printable ASCII but `,` and `=`, not ending in a space. */
const TRACE_STATE_VALUE = '[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]';
const TRACE_STATE_MEMBER_REGEX = new RegExp(`^(${TRACE_STATE_KEY})=(?:${TRACE_STATE_VALUE})$`);
/** Longest key (256) + `=` + longest value (256): anything longer is invalid before any regex runs. */
const MAX_TRACE_STATE_MEMBER_LENGTH = 513;
const TRACE_STATE_MEMBER_SEPARATOR = ',';

export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/**
 * Propagates span context in W3C Trace Context (`traceparent` + `tracestate`),
 * strictly: https://www.w3.org/TR/trace-context/ with the Level 2 random flag.
 * Unlike upstream's W3CTraceContextPropagator it rejects two `traceparent`
 * headers and drops a `tracestate` with any invalid or duplicated member, as
 * the W3C conformance suite (w3c/trace-context test/test.py) requires.
 */
export class TraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    setter.set(carrier, TRACE_PARENT_HEADER, formatTraceParent(spanContext));
    const traceState = spanContext.traceState?.serialize();
    // The spec: vendors SHOULD avoid sending an empty tracestate.
    if (traceState) setter.set(carrier, TRACE_STATE_HEADER, traceState);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const traceParent = parseTraceParent(singleTraceParent(getter.get(carrier, TRACE_PARENT_HEADER)));
    if (!traceParent) return context;
    const spanContext: SpanContext = { ...traceParent, isRemote: true };
    const traceState = parseTraceState(getter.get(carrier, TRACE_STATE_HEADER));
    if (traceState) spanContext.traceState = traceState;
    return trace.setSpanContext(context, spanContext);
  }

  fields(): string[] {
    return [TRACE_PARENT_HEADER, TRACE_STATE_HEADER];
  }
}

/** `00-<trace-id>-<span-id>-<flags>`: the traceparent grammar, also used by `traceresponse`. */
export function formatTraceParent(spanContext: SpanContext): string {
  const flags = ((spanContext.traceFlags ?? 0) & KNOWN_TRACE_FLAGS).toString(16).padStart(2, '0');
  return `${VERSION}-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** The fields of one `traceparent` value, or undefined when it is not valid. */
export function parseTraceParent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const match = TRACE_PARENT_REGEX.exec(trimOws(value));
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === INVALID_VERSION) return undefined;
  if (version === VERSION && rest !== undefined) return undefined;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & KNOWN_TRACE_FLAGS };
}

/**
 * The list members of one or more `tracestate` values (combined with `,`, as
 * the spec says to combine them), or undefined when there are none or any one
 * of them is invalid: the spec lets a vendor discard the whole header, and
 * keeping a partial list would forward state that its owner did not write.
 * Empty members and OWS around members are allowed.
 */
export function parseTraceState(header: unknown): TraceState | undefined {
  const raw = joinTraceStateValues(header);
  if (raw === undefined) return undefined;
  const keys = new Set<string>();
  const members: string[] = [];
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(TRACE_STATE_MEMBER_SEPARATOR, start);
    if (end === -1) end = raw.length;
    const member = trimOws(raw.slice(start, end));
    start = end + 1;
    if (member === '') continue;
    if (members.length === MAX_TRACE_STATE_MEMBERS || member.length > MAX_TRACE_STATE_MEMBER_LENGTH) return undefined;
    const match = TRACE_STATE_MEMBER_REGEX.exec(member);
    if (!match) return undefined;
    const key = match[1];
    if (keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0) return undefined;
  // Upstream's TraceState keeps its members in order; it also stops at 512
  // characters, which the spec's limits allow (a vendor CAN truncate beyond 512).
  return new CoreTraceState(members.join(TRACE_STATE_MEMBER_SEPARATOR));
}

/** Two traceparent headers make the request's parent ambiguous: the conformance suite expects a new trace. */
function singleTraceParent(header: unknown): string | undefined {
  if (typeof header === 'string') return header;
  if (Array.isArray(header) && header.length === 1 && typeof header[0] === 'string') return header[0];
  return undefined;
}

function joinTraceStateValues(header: unknown): string | undefined {
  if (typeof header === 'string') return header;
  if (!Array.isArray(header) || !header.every((value) => typeof value === 'string')) return undefined;
  return header.join(TRACE_STATE_MEMBER_SEPARATOR);
}

/** OWS = *( SP / HTAB ); a loop, because `/[ \t]+$/` is quadratic on long values full of spaces. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
