import type { ServerResponse } from 'node:http';
import type { SpanContext } from '@opentelemetry/api';
import { formatTraceParent } from './tracecontext.ts';

/** Values of ACME_OTEL_RESPONSE_HEADERS. */
export const RESPONSE_HEADER_FORMATS = ['traceresponse', 'server-timing', 'kontur'] as const;
export type ResponseHeaderFormat = (typeof RESPONSE_HEADER_FORMATS)[number];

/** W3C Trace Context Level 2 (candidate draft): same grammar as traceparent, for the server's span. */
const TRACE_RESPONSE_HEADER = 'traceresponse';
const SERVER_TIMING_HEADER = 'Server-Timing';
/** The metric Splunk's Node distribution sends and browser RUM tools read. */
const SERVER_TIMING_METRIC = 'traceparent';
const KONTUR_TRACE_ID_HEADER = 'X-Kontur-Trace-Id';
const ALLOW_ORIGIN_HEADER = 'access-control-allow-origin';
const EXPOSE_HEADERS_HEADER = 'Access-Control-Expose-Headers';
const LIST_SEPARATOR = ', ';
/** Lowercase only: these values go into response headers, so nothing but hex may pass. */
const TRACE_ID_REGEX = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID_REGEX = /^(?!0{16})[0-9a-f]{16}$/;

/**
 * Called from the http server instrumentation with the outgoing node:http
 * ServerResponse and the SERVER span's context, before headers are sent.
 * Writes the trace id in each format asked for, so a person (or a browser
 * RUM script) can find the trace of a response. When the app answers CORS
 * requests (`Access-Control-Allow-Origin` is set) the written header names are
 * added to `Access-Control-Expose-Headers`, or browsers hide them from
 * scripts. Does nothing once headers are sent or for an invalid span
 * context. Never throws.
 */
export function writeResponseTraceHeaders(
  response: ServerResponse,
  spanContext: SpanContext,
  formats: readonly ResponseHeaderFormat[],
): void {
  try {
    if (response.headersSent || !isWritableSpanContext(spanContext)) return;
    const written: string[] = [];
    let traceParent: string | undefined;
    // A repeated format writes once.
    for (let i = 0; i < formats.length; i++) {
      const format = formats[i]!;
      if (formats.indexOf(format) !== i) continue;
      switch (format) {
        case 'traceresponse':
          response.setHeader(TRACE_RESPONSE_HEADER, (traceParent ??= formatTraceParent(spanContext)));
          written.push(TRACE_RESPONSE_HEADER);
          break;
        case 'server-timing':
          appendServerTiming(response, `${SERVER_TIMING_METRIC};desc="${(traceParent ??= formatTraceParent(spanContext))}"`);
          written.push(SERVER_TIMING_HEADER);
          break;
        case 'kontur':
          response.setHeader(KONTUR_TRACE_ID_HEADER, spanContext.traceId);
          written.push(KONTUR_TRACE_ID_HEADER);
          break;
        default:
          // Config validates the list; an unknown value is ignored, not fatal.
          break;
      }
    }
    if (written.length > 0 && response.hasHeader(ALLOW_ORIGIN_HEADER)) exposeHeaders(response, written);
  } catch {
    // A response in a state we did not foresee must still reach the client.
  }
}

function isWritableSpanContext(spanContext: SpanContext | undefined): spanContext is SpanContext {
  return (
    typeof spanContext === 'object' &&
    spanContext !== null &&
    typeof spanContext.traceId === 'string' &&
    typeof spanContext.spanId === 'string' &&
    TRACE_ID_REGEX.test(spanContext.traceId) &&
    SPAN_ID_REGEX.test(spanContext.spanId)
  );
}

/**
 * Server-Timing is a comma-separated list: ours goes last, once. The app's
 * values are kept as written (a quoted desc may itself hold commas).
 */
function appendServerTiming(response: ServerResponse, metric: string): void {
  const current = response.getHeader(SERVER_TIMING_HEADER);
  if (current === undefined) {
    // Most responses: none set by the app.
    response.setHeader(SERVER_TIMING_HEADER, metric);
    return;
  }
  const existing = headerValues(current).filter((value) => value.trim() !== '');
  if (existing.some((value) => value.includes(metric))) return;
  response.setHeader(SERVER_TIMING_HEADER, [...existing, metric].join(LIST_SEPARATOR));
}

function exposeHeaders(response: ServerResponse, names: readonly string[]): void {
  const existing = headerList(response.getHeader(EXPOSE_HEADERS_HEADER));
  const present = new Set(existing.map((name) => name.toLowerCase()));
  const added = names.filter((name) => !present.has(name.toLowerCase()));
  if (added.length === 0) return;
  response.setHeader(EXPOSE_HEADERS_HEADER, [...existing, ...added].join(LIST_SEPARATOR));
}

/** A header's values however the app set it: string, string[] or number. */
function headerValues(value: string | number | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** The members of a list of tokens, such as header names. */
function headerList(value: string | number | readonly string[] | undefined): string[] {
  return headerValues(value)
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
