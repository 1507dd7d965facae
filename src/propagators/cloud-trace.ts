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

export const CLOUD_TRACE_CONTEXT_HEADER = 'x-cloud-trace-context';

/**
 * `TRACE_ID/SPAN_ID;o=OPTIONS`, anchored at both ends (Google's propagator is
 * not). SPAN_ID is decimal; 20 digits are enough for 2^64-1 and bound the
 * BigInt work. `;o=` is optional; only 0 and 1 are defined.
 */
const CLOUD_TRACE_CONTEXT_REGEX = /^([0-9a-fA-F]{32})\/([0-9]{1,20})(?:;o=([01]))?$/;
const MAX_SPAN_ID = 0xffff_ffff_ffff_ffffn;
const INVALID_TRACE_ID = '0'.repeat(32);
const SAMPLED_OPTION = '1';

/**
 * Google Cloud's `X-Cloud-Trace-Context`, wire-compatible with Google's own
 * (deprecated, SDK 2.x) CloudPropagator: the span id travels as the unsigned
 * 64-bit number in decimal. Cloud Run and Google's load balancers also send
 * `traceparent`, so list this after `tracecontext` as the fallback.
 */
export class CloudTracePropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    setter.set(carrier, CLOUD_TRACE_CONTEXT_HEADER, formatCloudTraceContext(spanContext));
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const spanContext = parseCloudTraceContext(firstHeaderValue(getter.get(carrier, CLOUD_TRACE_CONTEXT_HEADER)));
    return spanContext ? trace.setSpanContext(context, spanContext) : context;
  }

  fields(): string[] {
    return [CLOUD_TRACE_CONTEXT_HEADER];
  }
}

/** `<trace>/<decimal span>;o=<sampled bit>`. */
export function formatCloudTraceContext(spanContext: SpanContext): string {
  const spanId = BigInt(`0x${spanContext.spanId}`).toString(10);
  return `${spanContext.traceId}/${spanId};o=${spanContext.traceFlags & TraceFlags.SAMPLED}`;
}

/** A remote span context from one header value, or undefined when it is not valid. */
export function parseCloudTraceContext(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const match = CLOUD_TRACE_CONTEXT_REGEX.exec(value);
  if (!match) return undefined;
  const traceId = match[1].toLowerCase();
  const spanId = BigInt(match[2]);
  if (traceId === INVALID_TRACE_ID || spanId === 0n || spanId > MAX_SPAN_ID) return undefined;
  return {
    traceId,
    spanId: spanId.toString(16).padStart(16, '0'),
    traceFlags: match[3] === SAMPLED_OPTION ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
}
