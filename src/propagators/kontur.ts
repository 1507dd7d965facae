import { randomBytes } from 'node:crypto';
import {
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { firstHeaderValue } from './header-value.ts';

export const KONTUR_TRACE_ID_HEADER = 'x-kontur-trace-id';
/** From the company's deprecated ditrace library (TraceHttpHeaders.cs); read, never written. */
export const KONTUR_SPAN_ID_HEADER = 'x-kontur-trace-spanid';
export const KONTUR_IS_SAMPLED_HEADER = 'x-kontur-trace-issampled';

/** 32 hex digits, or the same as a dashed .NET Guid; any case. No whitespace, no braces. */
const TRACE_ID_REGEX = /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
const SPAN_ID_REGEX = /^[0-9a-fA-F]{16}$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
/** ditrace wrote `true` for sampled; .NET's bool.ToString() writes `True`, so the comparison ignores case. */
const SAMPLED_VALUE = 'true';

/**
 * `X-Kontur-Trace-Id`: the 32-hex trace id the company's services send and
 * return so a person can open the trace. It carries no parent span, so it is
 * meant to follow `tracecontext` in OTEL_PROPAGATORS and is only used when no
 * earlier format yielded a context.
 *
 * Extract (our choice, see PROPAGATORS.md): the parent span id is
 * `X-Kontur-Trace-SpanId` when that is 16 hex digits, otherwise a random one,
 * so the server span still has a remote parent in the caller's trace; sampled
 * unless `X-Kontur-Trace-IsSampled` is present and not `true`.
 */
export class KonturPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    setter.set(carrier, KONTUR_TRACE_ID_HEADER, spanContext.traceId);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const traceId = parseKonturTraceId(firstHeaderValue(getter.get(carrier, KONTUR_TRACE_ID_HEADER)));
    if (traceId === undefined) return context;
    const spanId = parseKonturSpanId(firstHeaderValue(getter.get(carrier, KONTUR_SPAN_ID_HEADER))) ?? generateSpanId();
    const isSampled = firstHeaderValue(getter.get(carrier, KONTUR_IS_SAMPLED_HEADER));
    const sampled = isSampled === undefined || isSampled.toLowerCase() === SAMPLED_VALUE;
    return trace.setSpanContext(context, {
      traceId,
      spanId,
      traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    });
  }

  fields(): string[] {
    return [KONTUR_TRACE_ID_HEADER, KONTUR_SPAN_ID_HEADER, KONTUR_IS_SAMPLED_HEADER];
  }
}

/** The 32 lowercase hex digits of an `X-Kontur-Trace-Id` value, or undefined. */
export function parseKonturTraceId(value: string | undefined): string | undefined {
  if (value === undefined || !TRACE_ID_REGEX.test(value)) return undefined;
  const traceId = value.replaceAll('-', '').toLowerCase();
  return traceId === INVALID_TRACE_ID ? undefined : traceId;
}

function parseKonturSpanId(value: string | undefined): string | undefined {
  if (value === undefined || !SPAN_ID_REGEX.test(value)) return undefined;
  const spanId = value.toLowerCase();
  return spanId === INVALID_SPAN_ID ? undefined : spanId;
}

function generateSpanId(): string {
  let spanId: string;
  do spanId = randomBytes(8).toString('hex');
  while (spanId === INVALID_SPAN_ID);
  return spanId;
}
