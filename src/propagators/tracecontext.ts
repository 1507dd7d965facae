import {
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { trimOws } from './header-value.ts';
import { W3CTraceState } from './trace-state.ts';

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
 * Level 2 defines sampled (0x01) and random-trace-id (0x02); every other bit
 * "MUST be set to zero" by vendors, so unknown bits are neither kept nor sent.
 * The random bit is kept as received: the tracer provider
 * (src/random-trace-id-flag.ts) carries it on to every span of the trace.
 */
const KNOWN_TRACE_FLAGS = 0x03;

export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/**
 * Propagates span context in W3C Trace Context (`traceparent` + `tracestate`)
 * as the spec reads today (w3c/trace-context main, spec/20-http_request_header_format.md),
 * with the Level 2 random-trace-id flag. Unlike upstream's
 * W3CTraceContextPropagator it rejects two `traceparent` headers, accepts the
 * current tracestate key grammar (`foo@`, `a@b@c`) and drops a `tracestate`
 * with an invalid member, as the W3C conformance suite (test/test.py) requires.
 * See W3CTraceState for duplicated keys and the length limit.
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
    // Spec: parse tracestate only once traceparent parsed; its failure never costs the traceparent.
    const traceState = W3CTraceState.parse(getter.get(carrier, TRACE_STATE_HEADER));
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

/** Two traceparent headers make the request's parent ambiguous: the conformance suite expects a new trace. */
function singleTraceParent(header: unknown): string | undefined {
  if (typeof header === 'string') return header;
  if (Array.isArray(header) && header.length === 1 && typeof header[0] === 'string') return header[0];
  return undefined;
}
