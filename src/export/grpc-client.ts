import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import zlib from 'node:zlib';
import { GRPC_STATUS_NAMES, GrpcStatus } from './grpc-status.ts';

/**
 * Unary gRPC calls (one request message, one answer) over a single
 * long-lived node:http2 session: what an OTLP/gRPC export needs and nothing
 * more. Upstream's transport (grpc-js) costs about 5 µs of CPU per exported
 * span on the request-serving thread in its channel, filter and interceptor
 * layers and async gzip; here a call is one HTTP/2 stream carrying one
 * framed message, gzipped at level 1 in one step.
 *
 * Wire format (gRPC over HTTP/2, PROTOCOL-HTTP2.md in grpc/grpc): headers
 * `:method POST`, `:path /<service>/<method>`, `content-type
 * application/grpc`, `te trailers`, `grpc-timeout`, `grpc-encoding`; the body
 * is a 1-byte compressed flag, a 4-byte big-endian length and the message;
 * the status comes in the trailers (or in the headers of a trailers-only
 * answer) as `grpc-status`, `grpc-message`, `grpc-status-details-bin`.
 */

export interface GrpcTarget {
  /** http://host:port (plaintext HTTP/2) or https://host:port (TLS); a path is ignored, as gRPC does. */
  readonly url: string;
  /** Sent as metadata: lower-case keys, never printed. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly certificateFile?: string;
  readonly clientKeyFile?: string;
  readonly clientCertificateFile?: string;
  /** GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: grpc-js's trusted roots when no certificate file is configured; we honour it alike. */
  readonly defaultRootsFile?: string;
  readonly userAgent: string;
}

const { CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED } = GrpcStatus;

/** A failed call, shaped as grpc-js's ServiceError: grpc-retry.ts reads `code` and the RetryInfo in `metadata`. */
export class GrpcCallError extends Error {
  readonly code: number;
  readonly details: string;
  readonly metadata: { get(key: string): Buffer[] };

  constructor(code: number, details: string, statusDetails?: Buffer) {
    // grpc-js's wording (`14 UNAVAILABLE: …`), which users and our tests know.
    super(`${code} ${GRPC_STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.code = code;
    this.details = details;
    // Only the status details: the other trailers are the server's, and none of our business to keep.
    this.metadata = { get: (key) => (key === 'grpc-status-details-bin' && statusDetails !== undefined ? [statusDetails] : []) };
  }
}

/** Messages up to this size are gzipped in one synchronous step (about 0.4 ms for 512 spans at level 1); larger ones on libuv's pool, so no single step holds the event loop for long. */
const SYNC_GZIP_LIMIT = 256 * 1024;
const GZIP_OPTIONS: zlib.ZlibOptions = { level: 1 };
/** As upstream: after this many deadline-exceeded calls in a row, the connection is replaced. */
const MAX_DEADLINE_EXCEEDED_IN_A_ROW = 5;

export type CallCallback = (error: GrpcCallError | undefined, answer?: Buffer) => void;

export class GrpcUnaryClient {
  private readonly target: GrpcTarget;
  private readonly authority: string;
  private readonly secure: boolean;
  private session: http2.ClientHttp2Session | undefined;
  /** Why the current session failed, for the calls that fail with it. */
  private sessionError: Error | undefined;
  private activeCalls = 0;
  private deadlinesInARow = 0;
  private closed = false;

  constructor(target: GrpcTarget) {
    this.target = target;
    const url = new URL(target.url);
    this.secure = url.protocol === 'https:';
    this.authority = `${url.protocol}//${url.host}`;
  }

  /** Calls `methodPath` with `message`; `callback` is called exactly once. */
  call(methodPath: string, message: Uint8Array, timeoutMs: number, callback: CallCallback): void {
    if (this.closed) return callback(new GrpcCallError(UNAVAILABLE, 'exporter shut down'));
    if (this.target.compression === 'gzip' && message.length > SYNC_GZIP_LIMIT) {
      const startedAt = Date.now();
      zlib.gzip(message, GZIP_OPTIONS, (error, gzipped) => {
        if (error !== null) return callback(new GrpcCallError(INTERNAL, `gzip failed: ${error.message}`));
        this.send(methodPath, frame(gzipped, true), Math.max(1, timeoutMs - (Date.now() - startedAt)), callback);
      });
      return;
    }
    const body = this.target.compression === 'gzip' ? frame(zlib.gzipSync(message, GZIP_OPTIONS), true) : frame(message, false);
    this.send(methodPath, body, timeoutMs, callback);
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  private send(methodPath: string, body: Buffer, timeoutMs: number, callback: CallCallback): void {
    let stream: http2.ClientHttp2Stream;
    let session: http2.ClientHttp2Session;
    try {
      session = this.connection();
      stream = session.request(this.requestHeaders(methodPath, timeoutMs));
    } catch (error) {
      // A header value http2 refuses, or a TLS file gone since start-up: name the cause, never a value.
      return callback(new GrpcCallError(INTERNAL, `request not sent: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
    }
    this.callStarted(session);
    const startedAt = Date.now();
    let done = false;
    let responseHeaders: http2.IncomingHttpHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    let streamError: Error | undefined;
    const chunks: Buffer[] = [];
    const finish = (error: GrpcCallError | undefined, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      this.callEnded(session);
      this.deadlinesInARow = error?.code === DEADLINE_EXCEEDED ? this.deadlinesInARow + 1 : 0;
      if (this.deadlinesInARow > MAX_DEADLINE_EXCEEDED_IN_A_ROW) this.dropSession(session);
      callback(error, answer);
    };
    const deadline = setTimeout(() => {
      finish(new GrpcCallError(DEADLINE_EXCEEDED, `Deadline exceeded after ${((Date.now() - startedAt) / 1000).toFixed(3)}s`));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    stream.on('response', (headers) => (responseHeaders = headers));
    stream.on('trailers', (headers) => (trailers = headers));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => (streamError = error));
    stream.on('close', () => {
      if (done) return;
      try {
        const outcome = this.outcome(stream, responseHeaders, trailers, streamError, chunks);
        finish(outcome.error, outcome.answer);
      } catch (error) {
        finish(new GrpcCallError(INTERNAL, `malformed answer: ${(error as Error).message}`));
      }
    });
    stream.end(body);
  }

  private requestHeaders(methodPath: string, timeoutMs: number): http2.OutgoingHttpHeaders {
    const headers: http2.OutgoingHttpHeaders = {};
    // Metadata first: the protocol's own headers below must win over a user's key of the same name.
    for (const key of Object.keys(this.target.metadata)) if (!RESERVED_HEADERS.has(key) && !key.startsWith(':')) headers[key] = this.target.metadata[key];
    headers[':method'] = 'POST';
    headers[':path'] = methodPath;
    headers['content-type'] = 'application/grpc';
    headers.te = 'trailers';
    headers['grpc-timeout'] = `${Math.max(1, Math.ceil(timeoutMs))}m`;
    headers['grpc-encoding'] = this.target.compression === 'gzip' ? 'gzip' : 'identity';
    headers['grpc-accept-encoding'] = 'identity,gzip';
    headers['user-agent'] = this.target.userAgent;
    return headers;
  }

  /** The status of a closed stream, from its trailers, its headers (trailers-only), its HTTP status or how it ended. */
  private outcome(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders | undefined, trailers: http2.IncomingHttpHeaders | undefined, streamError: Error | undefined, chunks: Buffer[]): { error?: GrpcCallError; answer?: Buffer } {
    const statusSource = trailers?.['grpc-status'] !== undefined ? trailers : headers?.['grpc-status'] !== undefined ? headers : undefined;
    if (statusSource !== undefined) {
      const code = Number(statusSource['grpc-status']);
      if (code === 0) return { answer: readAnswer(Buffer.concat(chunks), headers?.['grpc-encoding']) };
      const statusCode = Number.isInteger(code) && code > 0 && code < GRPC_STATUS_NAMES.length ? code : UNKNOWN;
      const details = statusSource['grpc-status-details-bin'];
      return { error: new GrpcCallError(statusCode, decodeGrpcMessage(statusSource['grpc-message']), typeof details === 'string' ? Buffer.from(details, 'base64') : undefined) };
    }
    // Typed as a header value, but node:http2 gives :status as a number.
    const httpStatus = headers === undefined ? undefined : Number(headers[':status']);
    if (httpStatus !== undefined && httpStatus !== 200) return { error: new GrpcCallError(grpcCodeOfHttpStatus(httpStatus), `Received HTTP status code ${httpStatus}`) };
    const sessionError = this.sessionError;
    if (headers === undefined && (sessionError !== undefined || streamError !== undefined)) {
      // Nothing came back: the connection failed (refused, reset, TLS): retryable, as grpc-js says.
      return { error: new GrpcCallError(UNAVAILABLE, `No connection established. Last error: ${causeOf(sessionError ?? streamError!)}`) };
    }
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) return { error: new GrpcCallError(grpcCodeOfResetStream(stream.rstCode), `Received RST_STREAM with code ${stream.rstCode}`) };
    if (streamError !== undefined) return { error: new GrpcCallError(UNAVAILABLE, `Connection dropped: ${streamError.message}`) };
    return { error: new GrpcCallError(UNKNOWN, 'No status received') };
  }

  private connection(): http2.ClientHttp2Session {
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.authority, this.secure ? this.tlsOptions() : {});
    this.session = session;
    this.sessionError = undefined;
    session.on('error', (error) => {
      if (this.session === session) this.sessionError = error;
    });
    // A GOAWAY (server restart, idle timeout, max connection age) ends this session for new calls.
    session.on('goaway', () => this.dropSession(session, false));
    session.on('close', () => this.dropSession(session, false));
    // An idle connection must never keep the app's process alive; calls in flight ref it (as grpc-js does).
    session.unref();
    return session;
  }

  private tlsOptions(): http2.SecureClientSessionOptions {
    const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(path.resolve(file)));
    const ca = read(this.target.certificateFile ?? this.target.defaultRootsFile);
    const key = read(this.target.clientKeyFile);
    const cert = read(this.target.clientCertificateFile);
    return { ALPNProtocols: ['h2'], ...(ca === undefined ? {} : { ca }), ...(key === undefined || cert === undefined ? {} : { key, cert }) };
  }

  private callStarted(session: http2.ClientHttp2Session): void {
    if (this.activeCalls++ === 0) session.ref();
  }

  private callEnded(session: http2.ClientHttp2Session): void {
    if (--this.activeCalls === 0 && !session.destroyed) session.unref();
  }

  private dropSession(session: http2.ClientHttp2Session, close = true): void {
    if (this.session !== session) return;
    this.session = undefined;
    if (close) session.close();
  }
}

/** Headers the protocol sets: OTEL_EXPORTER_OTLP_HEADERS cannot replace them. */
const RESERVED_HEADERS = new Set(['content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'user-agent', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'proxy-connection']);

/** A pending stream's error wraps the session's ("The pending stream has been canceled (caused by: …)"): say the cause, as grpc-js does (`Error: connect ECONNREFUSED …`). */
function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return String(cause instanceof Error ? cause : error);
}

function frame(message: Uint8Array, compressed: boolean): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = compressed ? 1 : 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The answer's message (empty when the server sent none), decompressed if it says so. */
function readAnswer(body: Buffer, encoding: string | string[] | undefined): Buffer {
  if (body.length < 5) return Buffer.alloc(0);
  const length = body.readUInt32BE(1);
  if (5 + length > body.length) throw new Error('truncated message');
  const message = body.subarray(5, 5 + length);
  if (body[0] === 0) return message;
  if (encoding === 'gzip') return zlib.gunzipSync(message);
  if (encoding === 'deflate') return zlib.inflateSync(message);
  throw new Error(`compressed with ${String(encoding)}`);
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md). */
function decodeGrpcMessage(raw: string | string[] | undefined): string {
  const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** http-grpc-status-mapping.md in grpc/grpc. */
function grpcCodeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return INTERNAL;
    case 401:
      return UNAUTHENTICATED;
    case 403:
      return PERMISSION_DENIED;
    case 404:
      return UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return UNAVAILABLE;
    default:
      return UNKNOWN;
  }
}

/** As grpc-js maps a stream reset. */
function grpcCodeOfResetStream(code: number): number {
  switch (code) {
    case http2.constants.NGHTTP2_REFUSED_STREAM:
      return UNAVAILABLE;
    case http2.constants.NGHTTP2_CANCEL:
      return CANCELLED;
    case http2.constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return RESOURCE_EXHAUSTED;
    case http2.constants.NGHTTP2_INADEQUATE_SECURITY:
      return PERMISSION_DENIED;
    default:
      return INTERNAL;
  }
}
