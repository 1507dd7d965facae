import {
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { firstHeaderValue } from './header-value.ts';

export const UBER_TRACE_ID_HEADER = 'uber-trace-id';

/**
 * `{trace-id}:{span-id}:{parent-span-id}:{flags}` (jaegertracing.io, "Propagation
 * Format"): ids are hex of variable length, shorter values left-padded with
 * zeros (older clients drop leading zeros), trace id 64 or 128 bits; flags one
 * byte as one or two hex digits. The parent span id is deprecated and ignored.
 */
const UBER_TRACE_ID_REGEX = /^([0-9a-fA-F]{1,32}):([0-9a-fA-F]{1,16}):[0-9a-fA-F]{1,16}:([0-9a-fA-F]{1,2})$/;
/** Clients behind URL-encoding proxies send `%3A` for the colons. */
const PERCENT_ENCODED_MARKER = '%';
/** Longest valid value with every colon percent-encoded: 32+16+16+2 digits, 3 × `%3A`. */
const MAX_ENCODED_LENGTH = 75;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
const SAMPLED_FLAG = 0x01;
/** Jaeger clients write 0 as the parent of the span that is sent: the receiver makes a child anyway. */
const PARENT_SPAN_ID_PLACEHOLDER = '0';

/**
 * Jaeger's `uber-trace-id`. Written here because upstream's
 * @opentelemetry/propagator-jaeger does not support API 1.10. Baggage
 * (`uberctx-*`) and `jaeger-debug-id` are not propagated.
 */
export class JaegerPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    setter.set(carrier, UBER_TRACE_ID_HEADER, formatUberTraceId(spanContext));
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const spanContext = parseUberTraceId(firstHeaderValue(getter.get(carrier, UBER_TRACE_ID_HEADER)));
    return spanContext ? trace.setSpanContext(context, spanContext) : context;
  }

  fields(): string[] {
    return [UBER_TRACE_ID_HEADER];
  }
}

export function formatUberTraceId(spanContext: SpanContext): string {
  const flags = spanContext.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `${spanContext.traceId}:${spanContext.spanId}:${PARENT_SPAN_ID_PLACEHOLDER}:${flags}`;
}

/** A remote span context from one header value, plain or percent-encoded, or undefined. */
export function parseUberTraceId(value: string | undefined): SpanContext | undefined {
  const decoded = value !== undefined && value.includes(PERCENT_ENCODED_MARKER) ? percentDecode(value) : value;
  if (decoded === undefined) return undefined;
  const match = UBER_TRACE_ID_REGEX.exec(decoded);
  if (!match) return undefined;
  const traceId = match[1].toLowerCase().padStart(32, '0');
  const spanId = match[2].toLowerCase().padStart(16, '0');
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const sampled = (parseInt(match[3], 16) & SAMPLED_FLAG) === SAMPLED_FLAG;
  return { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
}

function percentDecode(value: string): string | undefined {
  if (value.length > MAX_ENCODED_LENGTH) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    // URIError on a malformed escape: not a header we can read.
    return undefined;
  }
}
