import { readFileSync } from 'node:fs';
import type * as Http2 from 'node:http2';
import path from 'node:path';
import zlib from 'node:zlib';
import { printLine } from '../logging.ts';
import { GRPC_STATUS_NAMES, GrpcStatus } from './grpc-status.ts';

let http2Module: typeof Http2 | undefined;
/** node:http2 takes about 20 ms to load: it is loaded at the first export, not at start-up (getBuiltinModule works from CommonJS and ES modules alike). */
function http2(): typeof Http2 {
  return (http2Module ??= process.getBuiltinModule('node:http2'));
}

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

/** One HTTP/2 connection and what its calls need to know of it. */
interface Connection {
  readonly session: Http2.ClientHttp2Session;
  /** Set once the peer's SETTINGS arrived: failures before that are "no connection established". */
  connected: boolean;
  /** Why it failed, for the calls that fail with it. */
  error?: Error;
  /** Calls in flight: while there are any, the connection keeps the process alive, as grpc-js's do. */
  activeCalls: number;
}

/** As grpc-js: answers above this are refused (RESOURCE_EXHAUSTED) rather than buffered. An OTLP answer is a few bytes. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export class GrpcUnaryClient {
  private readonly target: GrpcTarget;
  private readonly authority: string;
  private readonly secure: boolean;
  private connection: Connection | undefined;
  private deadlinesInARow = 0;
  private closed = false;

  constructor(target: GrpcTarget) {
    this.target = target;
    const url = new URL(target.url);
    this.secure = url.protocol === 'https:';
    // Without a port, grpc-js (upstream's transport) dials 443 whatever the scheme; so do we.
    this.authority = `${url.protocol}//${url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname}:${url.port === '' ? 443 : url.port}`;
  }

  /** Calls `methodPath` with `message`; `callback` is called exactly once, never synchronously throwing into the caller. */
  call(methodPath: string, message: Uint8Array, timeoutMs: number, callback: CallCallback): void {
    const answer = once(callback);
    if (this.closed) return answer(new GrpcCallError(UNAVAILABLE, 'exporter shut down'));
    if (this.target.compression === 'gzip' && message.length > SYNC_GZIP_LIMIT) {
      const startedAt = Date.now();
      zlib.gzip(message, GZIP_OPTIONS, (error, gzipped) => {
        if (error !== null) return answer(new GrpcCallError(INTERNAL, `gzip failed: ${error.message}`));
        this.send(methodPath, frame(gzipped, true), Math.max(1, timeoutMs - (Date.now() - startedAt)), answer);
      });
      return;
    }
    let body: Buffer;
    try {
      body = this.target.compression === 'gzip' ? frame(zlib.gzipSync(message, GZIP_OPTIONS), true) : frame(message, false);
    } catch (error) {
      return answer(new GrpcCallError(INTERNAL, `gzip failed: ${(error as Error).message}`));
    }
    this.send(methodPath, body, timeoutMs, answer);
  }

  close(): void {
    this.closed = true;
    this.connection?.session.close();
    this.connection = undefined;
  }

  private send(methodPath: string, body: Buffer, timeoutMs: number, callback: CallCallback): void {
    // Closed while its message was being gzipped: no new connection for it.
    if (this.closed) return callback(new GrpcCallError(UNAVAILABLE, 'exporter shut down'));
    let stream: Http2.ClientHttp2Stream;
    let connection: Connection;
    try {
      connection = this.connect();
      stream = connection.session.request(this.requestHeaders(methodPath, timeoutMs));
    } catch (error) {
      // Headers http2 refuses: name the cause, never a value.
      return callback(new GrpcCallError(INTERNAL, `request not sent: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
    }
    if (connection.activeCalls++ === 0) connection.session.ref();
    const startedAt = Date.now();
    let done = false;
    let cancelledByUs = false;
    let responseHeaders: Http2.IncomingHttpHeaders | undefined;
    let trailers: Http2.IncomingHttpHeaders | undefined;
    let streamError: Error | undefined;
    let answerBytes = 0;
    const chunks: Buffer[] = [];
    const finish = (error: GrpcCallError | undefined, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (--connection.activeCalls === 0 && !connection.session.destroyed) connection.session.unref();
      this.deadlinesInARow = error?.code === DEADLINE_EXCEEDED ? this.deadlinesInARow + 1 : 0;
      if (this.deadlinesInARow > MAX_DEADLINE_EXCEEDED_IN_A_ROW) this.drop(connection, true);
      callback(error, answer);
    };
    const cancel = (error: GrpcCallError) => {
      cancelledByUs = true;
      stream.close(http2().constants.NGHTTP2_CANCEL);
      finish(error);
    };
    const deadline = setTimeout(() => cancel(new GrpcCallError(DEADLINE_EXCEEDED, `Deadline exceeded after ${((Date.now() - startedAt) / 1000).toFixed(3)}s`)), timeoutMs);
    stream.on('response', (headers) => (responseHeaders = headers));
    stream.on('trailers', (headers) => (trailers = headers));
    stream.on('data', (chunk: Buffer) => {
      answerBytes += chunk.length;
      if (answerBytes > MAX_ANSWER_BYTES) return cancel(new GrpcCallError(RESOURCE_EXHAUSTED, `Received message larger than max (${answerBytes} vs. ${MAX_ANSWER_BYTES})`));
      chunks.push(chunk);
    });
    stream.on('error', (error) => (streamError = error));
    stream.on('close', () => {
      if (done) return;
      let outcome: { error?: GrpcCallError; answer?: Buffer };
      try {
        outcome = this.outcome(connection, stream, cancelledByUs, responseHeaders, trailers, streamError, chunks);
      } catch (error) {
        outcome = { error: new GrpcCallError(INTERNAL, `malformed answer: ${(error as Error).message}`) };
      }
      finish(outcome.error, outcome.answer);
    });
    stream.end(body);
  }

  private requestHeaders(methodPath: string, timeoutMs: number): Http2.OutgoingHttpHeaders {
    // The call's own headers first, then the metadata (PROTOCOL-HTTP2.md's order, as grpc-js sends them).
    const headers: Http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': methodPath,
      te: 'trailers',
      'content-type': 'application/grpc',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      'grpc-encoding': this.target.compression === 'gzip' ? 'gzip' : 'identity',
      'grpc-accept-encoding': 'identity,gzip',
      'user-agent': this.target.userAgent,
    };
    for (const key of Object.keys(this.target.metadata)) if (!RESERVED_HEADERS.has(key) && !key.startsWith(':')) headers[key] = this.target.metadata[key];
    return headers;
  }

  /** The status of a closed stream, from its trailers, its headers (trailers-only), its HTTP status or how it ended. */
  private outcome(
    connection: Connection,
    stream: Http2.ClientHttp2Stream,
    cancelledByUs: boolean,
    headers: Http2.IncomingHttpHeaders | undefined,
    trailers: Http2.IncomingHttpHeaders | undefined,
    streamError: Error | undefined,
    chunks: Buffer[],
  ): { error?: GrpcCallError; answer?: Buffer } {
    const statusSource = trailers?.['grpc-status'] !== undefined ? trailers : headers?.['grpc-status'] !== undefined ? headers : undefined;
    if (statusSource !== undefined) {
      const raw = String(statusSource['grpc-status']);
      if (!/^\d+$/.test(raw)) return { error: new GrpcCallError(UNKNOWN, `Invalid status from server: ${raw.slice(0, 20)}`) };
      const code = Number(raw);
      if (code === 0) return { answer: readAnswer(Buffer.concat(chunks), headers?.['grpc-encoding']) };
      const statusCode = code < GRPC_STATUS_NAMES.length ? code : UNKNOWN;
      const details = statusSource['grpc-status-details-bin'];
      return { error: new GrpcCallError(statusCode, decodeGrpcMessage(statusSource['grpc-message']), typeof details === 'string' ? Buffer.from(details, 'base64') : undefined) };
    }
    // Typed as a header value, but node:http2 gives :status as a number.
    const httpStatus = headers === undefined ? undefined : Number(headers[':status']);
    if (httpStatus !== undefined && httpStatus !== 200) return { error: new GrpcCallError(grpcCodeOfHttpStatus(httpStatus), `Received HTTP status code ${httpStatus}`) };
    // The connection never came up (refused, TLS, not HTTP/2): retryable, in grpc-js's words.
    if (!connection.connected) return { error: new GrpcCallError(UNAVAILABLE, `No connection established. Last error: ${causeOf(connection.error ?? streamError ?? new Error('connection closed'))}`) };
    // Node reports a connection that went away under a stream as a CANCEL we did not send.
    const sessionGone = connection.session.closed || connection.session.destroyed || connection.error !== undefined;
    const rstCode = stream.rstCode;
    if (rstCode !== undefined && rstCode !== http2().constants.NGHTTP2_NO_ERROR && !(rstCode === http2().constants.NGHTTP2_CANCEL && !cancelledByUs && sessionGone)) {
      return { error: new GrpcCallError(grpcCodeOfResetStream(rstCode), `Received RST_STREAM with code ${rstCode}`) };
    }
    if (sessionGone || streamError !== undefined) return { error: new GrpcCallError(UNAVAILABLE, `Connection dropped${streamError === undefined ? '' : `: ${causeOf(streamError)}`}`) };
    return { error: new GrpcCallError(UNKNOWN, 'No status received') };
  }

  private connect(): Connection {
    const current = this.connection;
    if (current !== undefined && !current.session.closed && !current.session.destroyed) return current;
    const session = http2().connect(this.authority, {
      // As grpc-js: bodies queued on a busy connection are not refused by Node's 10 MB session default.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      ...(this.secure ? this.tlsOptions() : {}),
    });
    const connection: Connection = { session, connected: false, activeCalls: 0 };
    this.connection = connection;
    this.deadlinesInARow = 0;
    session.once('remoteSettings', () => (connection.connected = true));
    session.on('error', (error) => (connection.error = error));
    // A GOAWAY (server restart, idle timeout, max connection age) ends this session for new calls.
    session.on('goaway', () => this.drop(connection, false));
    session.on('close', () => this.drop(connection, false));
    // An idle connection must never keep the app's process alive; calls in flight ref it.
    session.unref();
    return connection;
  }

  /**
   * TLS as upstream sets it up from the same variables: a file that cannot be
   * read is left out (config said so at start-up) and TLS goes on without it;
   * the client key and certificate go together or not at all.
   */
  private tlsOptions(): Http2.SecureClientSessionOptions {
    const read = (file: string | undefined) => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(path.resolve(file));
      } catch {
        return undefined;
      }
    };
    const ca = read(this.target.certificateFile) ?? read(this.target.defaultRootsFile);
    const key = read(this.target.clientKeyFile);
    const cert = read(this.target.clientCertificateFile);
    return { ALPNProtocols: ['h2'], ...(ca === undefined ? {} : { ca }), ...(key === undefined || cert === undefined ? {} : { key, cert }) };
  }

  private drop(connection: Connection, close: boolean): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    if (close) connection.session.close();
  }
}

/**
 * The caller's callback, called at most once and never letting a throw
 * escape into a timer or an http2 event, where it would be the app's
 * uncaught exception.
 */
function once(callback: CallCallback): CallCallback {
  let called = false;
  return (error, answer) => {
    if (called) return;
    called = true;
    try {
      callback(error, answer);
    } catch (thrown) {
      reportCallbackThrow(thrown);
    }
  };
}

/** A bug of ours: said once on stderr, never thrown at the app. */
let reportedCallbackThrow = false;
function reportCallbackThrow(thrown: unknown): void {
  if (reportedCallbackThrow) return;
  reportedCallbackThrow = true;
  printLine(`internal error after an export (${thrown instanceof Error ? thrown.message : String(thrown)}); exports go on`);
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
  if (encoding === 'gzip') return zlib.gunzipSync(message, { maxOutputLength: MAX_ANSWER_BYTES });
  if (encoding === 'deflate') return zlib.inflateSync(message, { maxOutputLength: MAX_ANSWER_BYTES });
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
    case http2().constants.NGHTTP2_REFUSED_STREAM:
      return UNAVAILABLE;
    case http2().constants.NGHTTP2_CANCEL:
      return CANCELLED;
    case http2().constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return RESOURCE_EXHAUSTED;
    case http2().constants.NGHTTP2_INADEQUATE_SECURITY:
      return PERMISSION_DENIED;
    default:
      return INTERNAL;
  }
}
