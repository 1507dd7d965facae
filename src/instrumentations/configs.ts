import type { ServerResponse } from 'node:http';
import { SpanKind, type Span } from '@opentelemetry/api';
import type { Config } from '../config/index.ts';
import { observeEmit } from '../context-manager.ts';
import { writeResponseTraceHeaders } from '../propagators/response-headers.ts';
import { createPrivateSlot } from '../private-slot.ts';
import { createPathFilter } from './path-filter.ts';
import { sanitizeSql } from './sql-sanitizer.ts';
import type { InstrumentationEntry } from './table.ts';

/** Options per instrumentation beyond upstream defaults; built when it is first loaded. */
export function createConfigFor(config: Config): (entry: InstrumentationEntry) => Record<string, unknown> {
  return (entry) => {
    switch (entry.name) {
      case 'http':
        return httpConfig(config);
      case 'undici':
        return undiciConfig(config.captureHeaders);
      case 'pg':
        return {
          // Statements are recorded with their literal values replaced by `?`.
          requestHook(span: Span, info: { query?: { text?: string } }) {
            const text = info.query?.text;
            if (typeof text === 'string') span.setAttribute('db.query.text', sanitizeSql(text));
          },
        };
      case 'mysql2':
        return {
          // Upstream's default formats the bind values into db.query.text. With
          // maskStatement the hook gets the statement as written (placeholders
          // kept); ours also reads MySQL's "…" and backslash-escaped strings.
          maskStatement: true,
          maskStatementHook: (query: string) => sanitizeSql(query, 'mysql'),
        };
      // mysql, tedious and knex have no option or hook for the statement text:
      // SqlStatementSanitizingProcessor rewrites it as their spans start.
      // cassandra-driver records no statement unless enhancedDatabaseReporting is set.
      case 'aws-lambda':
        // Our reading of _HANDLER (upstream reads LAMBDA_TASK_ROOT itself; the runtime sets both).
        return config.awsLambda === undefined ? {} : { lambdaHandler: config.awsLambda.handler };
      case 'pino':
      case 'winston':
      case 'bunyan':
        // Upstream's log sending replaces pino's stream with a multistream, adds a
        // winston transport and a bunyan stream: the app's own output changes
        // (see log-correlation.ts). Correlation fields stay on.
        return { disableLogSending: true };
      default:
        return {};
    }
  };
}

/** Headers that carry credentials: even when listed in ACME_OTEL_CAPTURE_HEADERS, only their presence is recorded. */
export const SECRET_HEADERS: readonly string[] = Object.freeze(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
export const REDACTED = 'REDACTED';

function httpConfig(config: Config): Record<string, unknown> {
  const formats = config.responseHeaders;
  const ignored = createPathFilter(config.ignorePaths);
  // Read by our ListenerFreeHttpInstrumentation (src/instrumentations/http.ts), ignored by upstream's.
  const options: Record<string, unknown> = { acmeObserveEmit: observeEmit };
  // Prometheus scrapes of our own /metrics endpoint are not the app's requests.
  const scrapePort = config.metrics.exporters.includes('prometheus') ? config.metrics.prometheus.port : undefined;
  if (ignored !== undefined || scrapePort !== undefined) {
    options.ignoreIncomingRequestHook = (request: { url?: string; socket?: { localPort?: number } }) =>
      (scrapePort !== undefined && request.socket?.localPort === scrapePort) || (ignored?.(request.url) ?? false);
  }
  Object.assign(options, headerCaptureOptions(config.captureHeaders));
  if (formats.length === 0) return options;
  return {
    ...options,
    responseHook(span: Span, response: unknown) {
      if (!isServerResponse(response)) return;
      if ((span as unknown as { kind?: SpanKind }).kind === SpanKind.CLIENT) return;
      addTraceHeadersBeforeHeadersAreSent(response, span, formats);
    },
  };
}

/**
 * Nothing is captured unless listed (headers hold tokens, session ids, personal
 * data). Listed secret headers are left to upstream's capture never; we record
 * them as ["REDACTED"], so a person can still see that one was sent.
 */
function headerCaptureOptions(names: readonly string[]): Record<string, unknown> {
  if (names.length === 0) return {};
  const { plain, secret } = splitSecretHeaders(names);
  const lists = { requestHeaders: plain, responseHeaders: plain };
  const options: Record<string, unknown> = { headersToSpanAttributes: { server: lists, client: lists } };
  if (secret.length > 0) {
    options.applyCustomAttributesOnSpan = (span: Span, request: unknown, response: unknown) => {
      for (const name of secret) {
        if (hasHeader(request, name)) span.setAttribute(`http.request.header.${name}`, [REDACTED]);
        if (hasHeader(response, name)) span.setAttribute(`http.response.header.${name}`, [REDACTED]);
      }
    };
  }
  return options;
}

function splitSecretHeaders(names: readonly string[]): { plain: string[]; secret: string[] } {
  return { plain: names.filter((name) => !SECRET_HEADERS.includes(name)), secret: names.filter((name) => SECRET_HEADERS.includes(name)) };
}

/**
 * fetch and undici CLIENT spans: the same attributes as http's. Upstream's
 * headersToSpanAttributes records whatever it is given, so it gets only the
 * plain names; listed secret headers are marked from requestHook (the request
 * as created, before it is sent) and responseHook (the response's headers).
 */
function undiciConfig(names: readonly string[]): Record<string, unknown> {
  if (names.length === 0) return {};
  const { plain, secret } = splitSecretHeaders(names);
  const options: Record<string, unknown> = { headersToSpanAttributes: { requestHeaders: plain, responseHeaders: plain } };
  if (secret.length === 0) return options;
  return {
    ...options,
    requestHook(span: Span, request: unknown) {
      for (const name of secret) if (undiciRequestHasHeader(request, name)) span.setAttribute(`http.request.header.${name}`, [REDACTED]);
    },
    responseHook(span: Span, info: { response?: unknown }) {
      for (const name of secret) if (undiciResponseHasHeader(info.response, name)) span.setAttribute(`http.response.header.${name}`, [REDACTED]);
    },
  };
}

/** undici >= 6 (and Node's fetch) gives request headers as [name, value, …]; undici 5 as "name: value\r\n" lines. */
function undiciRequestHasHeader(request: unknown, name: string): boolean {
  const headers = typeof request === 'object' && request !== null ? (request as { headers?: unknown }).headers : undefined;
  if (Array.isArray(headers)) return flatHeadersInclude(headers, name);
  if (typeof headers !== 'string') return false;
  return headers.split('\r\n').some((line) => {
    const colon = line.indexOf(':');
    return colon > 0 && line.slice(0, colon).trim().toLowerCase() === name;
  });
}

/** Response headers arrive as raw [name, value, …] Buffers. */
function undiciResponseHasHeader(response: unknown, name: string): boolean {
  const headers = typeof response === 'object' && response !== null ? (response as { headers?: unknown }).headers : undefined;
  return Array.isArray(headers) && flatHeadersInclude(headers, name);
}

/** [name, value, name, value, …] with names as strings or Buffers. */
function flatHeadersInclude(headers: readonly unknown[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
  return false;
}

/** IncomingMessage has .headers; ClientRequest and ServerResponse have getHeader(). */
function hasHeader(message: unknown, name: string): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const withGetter = message as { getHeader?: (name: string) => unknown };
  if (typeof withGetter.getHeader === 'function') return withGetter.getHeader(name) !== undefined;
  const headers = (message as { headers?: Record<string, unknown> }).headers;
  return typeof headers === 'object' && headers !== null && headers[name] !== undefined;
}

function isServerResponse(value: unknown): value is ServerResponse {
  return typeof value === 'object' && value !== null && typeof (value as ServerResponse).writeHead === 'function' && typeof (value as ServerResponse).setHeader === 'function';
}

function isFlatHeaderArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.length % 2 === 0 && value.every((item) => typeof item === 'string');
}

/**
 * Responses whose trace headers are still to be written, with what to write:
 * in a private field of the response (private-slot.ts), which the app cannot see.
 */
const pendingTraceHeaders = createPrivateSlot<{ span: Span; formats: Config['responseHeaders'] } | undefined>();
const prototypesWithTraceHeaders = new WeakSet<object>();

/**
 * The hook runs before the app's handler, when CORS headers are not set yet;
 * writeHead is the last moment before headers leave (res.end() without it
 * calls writeHead too), so that is where we add ours. ServerResponse's
 * prototype writeHead looks the response up, so the response keeps no key of
 * ours and holds no span.
 */
function addTraceHeadersBeforeHeadersAreSent(response: ServerResponse, span: Span, formats: Config['responseHeaders']): void {
  pendingTraceHeaders.set(response, { span, formats });
  const proto = Object.getPrototypeOf(response) as ServerResponse;
  if (prototypesWithTraceHeaders.has(proto)) return;
  prototypesWithTraceHeaders.add(proto);
  const originalWriteHead = proto.writeHead;
  const writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    const pending = pendingTraceHeaders.get(this);
    if (pending === undefined) return (originalWriteHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    pendingTraceHeaders.set(this, undefined);
    // Headers passed to writeHead itself (CORS, Server-Timing) must be visible
    // to us too: move an object of them onto the response first.
    const last = args[args.length - 1];
    if (args.length > 1 && isFlatHeaderArray(last)) {
      // writeHead's [name, value, name, value] form: the same merge Node does
      // (a name given here replaces an earlier setHeader; repeats are kept).
      for (let i = 0; i < last.length; i += 2) this.removeHeader(last[i]!);
      for (let i = 0; i < last.length; i += 2) this.appendHeader(last[i]!, last[i + 1]!);
      args.pop();
    } else if (args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last)) {
      for (const [name, value] of Object.entries(last as Record<string, string | number | string[]>)) {
        if (value !== undefined) this.setHeader(name, value);
      }
      args.pop();
    }
    writeResponseTraceHeaders(this, pending.span.spanContext(), pending.formats);
    return (originalWriteHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  Object.defineProperty(writeHead, 'length', { value: originalWriteHead.length, configurable: true });
  Object.defineProperty(proto, 'writeHead', { value: writeHead, writable: true, enumerable: false, configurable: true });
}
