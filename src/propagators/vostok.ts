import { Buffer } from 'node:buffer';
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

/** vostok/clusterclient.core HeaderNames.ContextGlobals. */
export const VOSTOK_CONTEXT_GLOBALS_HEADER = 'context-globals';
/** The distributed global Vostok's Tracer registers for its TraceContext. */
const TRACE_CONTEXT_GLOBAL = 'vostok.tracing.context';
const TRACE_CONTEXT_GLOBAL_BYTES = Buffer.from(TRACE_CONTEXT_GLOBAL, 'utf8');
/** Vostok's TraceContextSerializer: `<trace-guid>;<span-guid>`. */
const TRACE_CONTEXT_DELIMITER = ';';
const LENGTH_PREFIX_BYTES = 4;
/** .NET's Convert.FromBase64String alphabet, padded; Buffer.from alone would skip any junk it meets. */
const BASE64_REGEX = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * The Guid text forms .NET's Guid.TryParse accepts that matter here: 32 digits
 * ("N"), dashed ("D"), dashed in braces ("B") or parentheses ("P"); any case.
 * Exactly one group captures the digits. No surrounding whitespace.
 */
const GUID_REGEX =
  /^(?:([0-9a-fA-F]{32})|([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})|\{([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}|\(([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\))$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

interface VostokTraceContext {
  readonly traceId: string;
  readonly spanId: string;
}

/**
 * Vostok's `Context-Globals` header (github vostok/tracing, clusterclient.core,
 * applications.aspnetcore VostokContextPropagator): base64 of length-prefixed
 * UTF-8 key/value pairs, the trace one being `vostok.tracing.context` =
 * `<trace-guid>;<span-guid>`. Ids map textually: the trace Guid's 32 digits are
 * the trace id, the span Guid is the span id padded right with 16 zeros.
 *
 * Vostok's own OpenTelemetry propagator only extracts; we also inject (trace
 * entry only) for legacy Vostok services that do not read `traceparent`.
 * Vostok has no sampling flag: extracted contexts are sampled.
 */
export class VostokPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    setter.set(carrier, VOSTOK_CONTEXT_GLOBALS_HEADER, formatVostokContextGlobals(spanContext));
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const parsed = parseVostokContextGlobals(firstHeaderValue(getter.get(carrier, VOSTOK_CONTEXT_GLOBALS_HEADER)));
    if (!parsed) return context;
    return trace.setSpanContext(context, { ...parsed, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  }

  fields(): string[] {
    return [VOSTOK_CONTEXT_GLOBALS_HEADER];
  }
}

/** The `Context-Globals` value holding only the trace entry for this span context. */
export function formatVostokContextGlobals(spanContext: Pick<SpanContext, 'traceId' | 'spanId'>): string {
  const value = `${formatGuid(spanContext.traceId)}${TRACE_CONTEXT_DELIMITER}${formatGuid(spanContext.spanId.padEnd(32, '0'))}`;
  return Buffer.concat([lengthPrefixed(TRACE_CONTEXT_GLOBAL_BYTES), lengthPrefixed(Buffer.from(value, 'utf8'))]).toString('base64');
}

/**
 * The trace and span ids of the first `vostok.tracing.context` entry, or
 * undefined. Like Vostok's reader it stops at that entry; a malformed entry
 * before it (negative or overrunning length) invalidates the header.
 */
export function parseVostokContextGlobals(value: string | undefined): VostokTraceContext | undefined {
  if (value === undefined || value.length === 0 || value.length % 4 !== 0 || !BASE64_REGEX.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  let offset = 0;
  while (offset < bytes.length) {
    const key = readLengthPrefixed(bytes, offset);
    if (!key) return undefined;
    const entryValue = readLengthPrefixed(bytes, key.end);
    if (!entryValue) return undefined;
    if (key.bytes.equals(TRACE_CONTEXT_GLOBAL_BYTES)) return parseTraceContextValue(entryValue.bytes.toString('utf8'));
    offset = entryValue.end;
  }
  return undefined;
}

/** Vostok's TraceContextSerializer.Deserialize: split on `;`, empty parts dropped, exactly two Guids. */
function parseTraceContextValue(value: string): VostokTraceContext | undefined {
  const parts = value.split(TRACE_CONTEXT_DELIMITER).filter((part) => part !== '');
  if (parts.length !== 2) return undefined;
  const traceHex = guidDigits(parts[0]);
  const spanHex = guidDigits(parts[1]);
  if (traceHex === undefined || spanHex === undefined) return undefined;
  // What Vostok's own OpenTelemetry propagator does: the first 16 digits are the span id.
  const spanId = spanHex.slice(0, 16);
  if (traceHex === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId: traceHex, spanId };
}

/** The 32 lowercase digits of a Guid in text order; never via Guid bytes, whose order is mixed-endian. */
function guidDigits(text: string): string | undefined {
  const match = GUID_REGEX.exec(text);
  if (!match) return undefined;
  const digits = match[1] ?? match[2] ?? match[3] ?? match[4];
  return digits.replaceAll('-', '').toLowerCase();
}

function formatGuid(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20, 32)}`;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
  prefix.writeInt32LE(bytes.length, 0);
  return Buffer.concat([prefix, bytes]);
}

function readLengthPrefixed(bytes: Buffer, offset: number): { bytes: Buffer; end: number } | undefined {
  if (offset + LENGTH_PREFIX_BYTES > bytes.length) return undefined;
  const length = bytes.readInt32LE(offset);
  const start = offset + LENGTH_PREFIX_BYTES;
  if (length < 0 || length > bytes.length - start) return undefined;
  return { bytes: bytes.subarray(start, start + length), end: start + length };
}
