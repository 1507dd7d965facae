/**
 * A real OTLP receiver for the end-to-end tests: gRPC (HTTP/2, length-
 * prefixed protobuf, gzip) and OTLP/HTTP (protobuf and JSON), decoding
 * ExportTraceServiceRequest into flat spans and ExportMetricsServiceRequest
 * into flat data points tests can assert on. Faults can be injected: gRPC
 * error statuses, HTTP error codes, slow answers (for both signals).
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { decodeLogsProtobuf, flattenLogs, LOGS_GRPC_PATH, LOGS_HTTP_PATH, type ReceivedLogRecord } from './otlp-logs.ts';
import { ExportMetricsRequest, ExportRequest, RetryInfo, RpcStatus } from './otlp-proto.ts';

/** The grpc-status-details-bin trailer: a google.rpc.Status carrying a google.rpc.RetryInfo. */
function retryInfoTrailer(code: number, message: string, delaySeconds: number): string {
  const retryInfo = RetryInfo.encode(RetryInfo.create({ retry_delay: { seconds: Math.floor(delaySeconds), nanos: Math.round((delaySeconds % 1) * 1e9) } })).finish();
  const status = RpcStatus.encode(RpcStatus.create({ code, message, details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }] })).finish();
  return Buffer.from(status).toString('base64');
}
const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const TEMPORALITIES = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'] as const;
const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram'] as const;
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: (typeof KINDS)[number];
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  status: { code: number; message: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  droppedAttributesCount: number;
}

/** One data point of one metric, with its metric's descriptor. */
export interface ReceivedMetricPoint {
  name: string;
  unit: string;
  description: string;
  type: (typeof METRIC_TYPES)[number];
  /** Sums and histograms; undefined for gauges. */
  temporality: (typeof TEMPORALITIES)[number] | undefined;
  isMonotonic: boolean | undefined;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Gauges and sums. */
  value?: number;
  /** Histograms (explicit and exponential). */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  scale?: number;
}

export interface ReceivedRequest {
  signal: 'traces' | 'metrics' | 'logs';
  protocol: 'grpc' | 'http/protobuf' | 'http/json';
  compressed: boolean;
  encoding: string;
  headers: Record<string, string | string[] | undefined>;
  /** Spans, or data points for a metrics request. */
  spanCount: number;
  /** Log records in a logs request (then spanCount is 0). */
  logRecordCount?: number;
}

export interface ReceiverBehaviour {
  grpcStatus?: number;
  grpcMessage?: string;
  httpStatus?: number;
  delayMs?: number;
  /** HTTP: a Retry-After header; gRPC (with grpcStatus): a google.rpc.RetryInfo with this delay. */
  retryAfterSeconds?: number;
}

export interface OtlpReceiver {
  grpcEndpoint: string;
  /** With `countOnly`: spans received per service.name and kind (e.g. counts.get('app')?.SERVER). */
  counts: Map<string, Partial<Record<(typeof KINDS)[number], number>>>;
  httpEndpoint: string;
  spans: ReceivedSpan[];
  /** Every metric data point received, in arrival order (one per point per export). */
  metrics: ReceivedMetricPoint[];
  /** Trace export requests (what most tests count). */
  requests: ReceivedRequest[];
  /** Metrics export requests, apart so trace tests' request counts stay theirs. */
  metricRequests: ReceivedRequest[];
  /** Log records from ExportLogsServiceRequests (same endpoints, the logs paths). */
  logs: ReceivedLogRecord[];
  waitForLogs(predicate: (logs: ReceivedLogRecord[]) => boolean, timeoutMs?: number): Promise<ReceivedLogRecord[]>;
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  waitForMetrics(predicate: (points: ReceivedMetricPoint[]) => boolean, timeoutMs?: number): Promise<ReceivedMetricPoint[]>;
  setBehaviour(behaviour: ReceiverBehaviour): void;
  reset(): void;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Keep no spans, only `counts` (the bench: hundreds of thousands of spans, decoded cheaply). */
  countOnly?: boolean;
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requireClientCert?: boolean };
  /** Listen for gRPC on this port (a collector coming back where an app has been failing to reach it); a free one by default. */
  grpcPort?: number;
}

type Json = Record<string, unknown>;

export function hex(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.toLowerCase(); // OTLP/JSON carries ids as hex
  return Buffer.from(value as Uint8Array).toString('hex');
}

export function toBigInt(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'object' && 'low' in (value as Json)) {
    const long = value as { low: number; high: number };
    return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0);
  }
  return BigInt(value as string | number);
}

export function anyValue(value: Json | undefined): unknown {
  if (value === undefined || value === null) return undefined;
  const v = value as Json;
  if ('string_value' in v || 'stringValue' in v) return v.string_value ?? v.stringValue;
  if ('bool_value' in v || 'boolValue' in v) return v.bool_value ?? v.boolValue;
  if ('int_value' in v || 'intValue' in v) return Number(toBigInt(v.int_value ?? v.intValue));
  if ('double_value' in v || 'doubleValue' in v) return Number(v.double_value ?? v.doubleValue);
  const array = (v.array_value ?? v.arrayValue) as Json | undefined;
  if (array !== undefined) return ((array.values as Json[] | undefined) ?? []).map(anyValue);
  const kvlist = (v.kvlist_value ?? v.kvlistValue) as Json | undefined;
  if (kvlist !== undefined) return keyValues(kvlist.values as Json[] | undefined);
  const bytes = v.bytes_value ?? v.bytesValue;
  if (bytes !== undefined) return typeof bytes === 'string' ? bytes : Buffer.from(bytes as Uint8Array).toString('base64');
  return undefined;
}

export function keyValues(list: Json[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const kv of list ?? []) result[kv.key as string] = anyValue(kv.value as Json | undefined);
  return result;
}

/** Works for both the protobuf object (snake_case, keepCase) and OTLP/JSON (camelCase). */
function flatten(request: Json): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of ((request.resource_spans ?? request.resourceSpans) as Json[] | undefined) ?? []) {
    const resource = keyValues(((rs.resource as Json | undefined)?.attributes as Json[] | undefined) ?? []);
    for (const ss of ((rs.scope_spans ?? rs.scopeSpans) as Json[] | undefined) ?? []) {
      const scopeJson = (ss.scope as Json | undefined) ?? {};
      const scope = { name: String(scopeJson.name ?? ''), version: String(scopeJson.version ?? '') };
      for (const s of (ss.spans as Json[] | undefined) ?? []) {
        const status = (s.status as Json | undefined) ?? {};
        spans.push({
          traceId: hex(s.trace_id ?? s.traceId),
          spanId: hex(s.span_id ?? s.spanId),
          parentSpanId: hex(s.parent_span_id ?? s.parentSpanId),
          traceState: String(s.trace_state ?? s.traceState ?? ''),
          flags: Number(s.flags ?? 0),
          name: String(s.name ?? ''),
          kind: KINDS[Number(s.kind ?? 0)] ?? 'UNSPECIFIED',
          startTimeUnixNano: toBigInt(s.start_time_unix_nano ?? s.startTimeUnixNano),
          endTimeUnixNano: toBigInt(s.end_time_unix_nano ?? s.endTimeUnixNano),
          attributes: keyValues(s.attributes as Json[] | undefined),
          resource,
          scope,
          status: { code: Number(status.code ?? 0), message: String(status.message ?? '') },
          events: ((s.events as Json[] | undefined) ?? []).map((e) => ({ name: String(e.name ?? ''), attributes: keyValues(e.attributes as Json[] | undefined) })),
          links: ((s.links as Json[] | undefined) ?? []).map((l) => ({ traceId: hex(l.trace_id ?? l.traceId), spanId: hex(l.span_id ?? l.spanId) })),
          droppedAttributesCount: Number(s.dropped_attributes_count ?? s.droppedAttributesCount ?? 0),
        });
      }
    }
  }
  return spans;
}

function numbers(list: unknown): number[] {
  return ((list as unknown[] | undefined) ?? []).map((item) => Number(toBigInt(item)));
}

function optionalNumber(value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : Number(typeof value === 'object' ? toBigInt(value) : value);
}

/** ExportMetricsServiceRequest, protobuf object (snake_case) or OTLP/JSON (camelCase), as one entry per data point. */
function flattenMetrics(request: Json): ReceivedMetricPoint[] {
  const points: ReceivedMetricPoint[] = [];
  for (const rm of ((request.resource_metrics ?? request.resourceMetrics) as Json[] | undefined) ?? []) {
    const resource = keyValues(((rm.resource as Json | undefined)?.attributes as Json[] | undefined) ?? []);
    for (const sm of ((rm.scope_metrics ?? rm.scopeMetrics) as Json[] | undefined) ?? []) {
      const scopeJson = (sm.scope as Json | undefined) ?? {};
      const scope = { name: String(scopeJson.name ?? ''), version: String(scopeJson.version ?? '') };
      for (const m of (sm.metrics as Json[] | undefined) ?? []) {
        const type = METRIC_TYPES.find((name) => m[name] !== undefined || m[name === 'exponential_histogram' ? 'exponentialHistogram' : name] !== undefined);
        if (type === undefined) continue;
        const data = (m[type] ?? m.exponentialHistogram) as Json;
        const temporalityNumber = data.aggregation_temporality ?? data.aggregationTemporality;
        const temporality = type === 'gauge' ? undefined : (TEMPORALITIES[Number(temporalityNumber ?? 0)] ?? 'UNSPECIFIED');
        const isMonotonic = type === 'sum' ? Boolean(data.is_monotonic ?? data.isMonotonic ?? false) : undefined;
        for (const p of ((data.data_points ?? data.dataPoints) as Json[] | undefined) ?? []) {
          const point: ReceivedMetricPoint = {
            name: String(m.name ?? ''),
            unit: String(m.unit ?? ''),
            description: String(m.description ?? ''),
            type,
            temporality,
            isMonotonic,
            attributes: keyValues(p.attributes as Json[] | undefined),
            resource,
            scope,
            startTimeUnixNano: toBigInt(p.start_time_unix_nano ?? p.startTimeUnixNano),
            timeUnixNano: toBigInt(p.time_unix_nano ?? p.timeUnixNano),
          };
          if (type === 'gauge' || type === 'sum') {
            point.value = optionalNumber(p.as_double ?? p.asDouble) ?? optionalNumber(p.as_int ?? p.asInt) ?? 0;
          } else {
            point.count = optionalNumber(p.count) ?? 0;
            point.sum = optionalNumber(p.sum);
            if (type === 'histogram') {
              point.bucketCounts = numbers(p.bucket_counts ?? p.bucketCounts);
              point.explicitBounds = ((p.explicit_bounds ?? p.explicitBounds) as number[] | undefined ?? []).map(Number);
            } else {
              point.scale = Number(p.scale ?? 0);
            }
          }
          points.push(point);
        }
      }
    }
  }
  return points;
}

export function decodeMetricsProtobuf(body: Buffer): ReceivedMetricPoint[] {
  return flattenMetrics(ExportMetricsRequest.toObject(ExportMetricsRequest.decode(body), { longs: String, bytes: Buffer as unknown as StringConstructor, defaults: false }) as Json);
}

/** A whole ExportTraceServiceRequest, every field (defaults included; bytes as base64, 64-bit numbers as strings), for field-by-field comparisons. */
export function decodeTraceRequest(body: Uint8Array): Json {
  return ExportRequest.toObject(ExportRequest.decode(body), { longs: String, bytes: String, defaults: true, arrays: true }) as Json;
}

export function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  return flatten(ExportRequest.toObject(ExportRequest.decode(body), { longs: String, bytes: Buffer as unknown as StringConstructor, defaults: false }) as Json);
}

/**
 * service.name -> kind -> spans, read by walking the wire format and skipping
 * every field but these (ExportTraceServiceRequest.resource_spans = 1;
 * ResourceSpans.resource = 1, .scope_spans = 2; Resource.attributes = 1;
 * KeyValue.key = 1, .value = 2; AnyValue.string_value = 1; ScopeSpans.spans = 2;
 * Span.kind = 6). The bench's receiver shares a core with the load generator:
 * a full decode of every span would slow the load, not the server measured.
 */
export function countSpans(body: Buffer, counts: OtlpReceiver['counts']): number {
  const reader = new WireReader(body);
  let total = 0;
  reader.forEachField(0, body.length, (number, start, end) => {
    if (number !== 1 || end < 0) return;
    let service = '';
    const scopes: [number, number][] = [];
    reader.forEachField(start, end, (field, fieldStart, fieldEnd) => {
      if (field === 1 && fieldEnd >= 0) {
        reader.forEachField(fieldStart, fieldEnd, (attribute, kvStart, kvEnd) => {
          if (attribute !== 1 || kvEnd < 0) return;
          let key = '';
          let value = '';
          reader.forEachField(kvStart, kvEnd, (part, partStart, partEnd) => {
            if (part === 1 && partEnd >= 0) key = body.toString('utf8', partStart, partEnd);
            else if (part === 2 && partEnd >= 0) {
              reader.forEachField(partStart, partEnd, (kind, valueStart, valueEnd) => {
                if (kind === 1 && valueEnd >= 0) value = body.toString('utf8', valueStart, valueEnd);
              });
            }
          });
          if (key === 'service.name') service = value;
        });
      } else if (field === 2 && fieldEnd >= 0) scopes.push([fieldStart, fieldEnd]);
    });
    const byKind = counts.get(service) ?? {};
    counts.set(service, byKind);
    for (const [scopeStart, scopeEnd] of scopes) {
      reader.forEachField(scopeStart, scopeEnd, (field, spanStart, spanEnd) => {
        if (field !== 2 || spanEnd < 0) return;
        let kindNumber = 0;
        reader.forEachField(spanStart, spanEnd, (spanField, varint, isLength) => {
          if (spanField === 6 && isLength < 0) kindNumber = varint;
        });
        const kind = KINDS[kindNumber] ?? 'UNSPECIFIED';
        byKind[kind] = (byKind[kind] ?? 0) + 1;
        total++;
      });
    }
  });
  return total;
}

/**
 * Calls `visit(number, start, end)` for each length-delimited field in
 * [from, to), and `visit(number, value, -1)` for each varint; fixed-size
 * fields are skipped. No allocation per field.
 */
class WireReader {
  private readonly buffer: Buffer;
  private offset = 0;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  forEachField(from: number, to: number, visit: (number: number, a: number, b: number) => void): void {
    this.offset = from;
    while (this.offset < to) {
      const tag = this.varint();
      const number = Math.floor(tag / 8);
      switch (tag & 7) {
        case 0:
          visit(number, this.varint(), -1);
          break;
        case 1:
          this.offset += 8;
          break;
        case 2: {
          const length = this.varint();
          const start = this.offset;
          const resumeAt = start + length;
          visit(number, start, resumeAt);
          this.offset = resumeAt;
          break;
        }
        case 5:
          this.offset += 4;
          break;
        default:
          throw new Error(`unsupported protobuf wire type ${tag & 7}`);
      }
    }
  }

  private varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.buffer[this.offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  }
}

function decompress(body: Buffer, encoding: string): Buffer {
  if (encoding === 'gzip') return zlib.gunzipSync(body);
  if (encoding === 'deflate') return zlib.inflateSync(body);
  return body;
}

/** One gRPC message: 1-byte compressed flag, 4-byte big-endian length, payload. */
function grpcFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A filter for received records, points or spans of one service (by its resource's service.name). */
export const ofService = (serviceName: string) => (record: { resource: Record<string, unknown> }) => record.resource['service.name'] === serviceName;

export async function startOtlpReceiver(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetricPoint[] = [];
  const logs: ReceivedLogRecord[] = [];
  const requests: ReceivedRequest[] = [];
  const metricRequests: ReceivedRequest[] = [];
  const counts: OtlpReceiver['counts'] = new Map();
  let behaviour: ReceiverBehaviour = {};
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((check) => check());
  // Unref'd: a test that ends while an answer is held back must not wait for it to exit.
  const delay = (answer: ReceiverBehaviour = behaviour) => new Promise((resolve) => setTimeout(resolve, answer.delayMs ?? 0).unref());

  const onGrpcStream = async (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const path = headers[':path'];
    const isMetrics = path === METRICS_EXPORT_PATH;
    const isLogs = path === LOGS_GRPC_PATH;
    if (path !== EXPORT_PATH && !isMetrics && !isLogs) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unimplemented' }, { endStream: true });
      return;
    }
    try {
      const body = await readBody(stream);
      const compressed = body.length >= 5 && body[0] === 1;
      const encoding = String(headers['grpc-encoding'] ?? 'identity');
      const length = body.length >= 5 ? body.readUInt32BE(1) : 0;
      const message = decompress(body.subarray(5, 5 + length), compressed ? encoding : 'identity');
      if (options.countOnly === true && !isMetrics && !isLogs) {
        await delay();
        if (stream.destroyed) return;
        countSpans(message, counts);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
        stream.end(grpcFrame(Buffer.alloc(0)));
        notify();
        return;
      }
      const received = isMetrics || isLogs ? [] : decodeProtobuf(message);
      const receivedPoints = isMetrics ? decodeMetricsProtobuf(message) : [];
      const receivedLogs = isLogs ? decodeLogsProtobuf(message) : [];
      const plainHeaders = Object.fromEntries(Object.entries(headers).filter(([key]) => !key.startsWith(':'))) as ReceivedRequest['headers'];
      (isMetrics ? metricRequests : requests).push({
        signal: isMetrics ? 'metrics' : isLogs ? 'logs' : 'traces',
        protocol: 'grpc',
        compressed,
        encoding,
        headers: plainHeaders,
        spanCount: isMetrics ? receivedPoints.length : received.length,
        ...(isLogs ? { logRecordCount: receivedLogs.length } : {}),
      });
      // The answer is the behaviour set when the request arrived: a test that changes it
      // right after seeing a request must not change that request's fate.
      const answer = behaviour;
      await delay(answer);
      if (stream.destroyed) return;
      const status = answer.grpcStatus ?? 0;
      if (status !== 0) {
        const grpcMessage = answer.grpcMessage ?? 'injected failure';
        const details = answer.retryAfterSeconds === undefined ? {} : { 'grpc-status-details-bin': retryInfoTrailer(status, grpcMessage, answer.retryAfterSeconds) };
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': grpcMessage, ...details }, { endStream: true });
        return;
      }
      spans.push(...received);
      metrics.push(...receivedPoints);
      logs.push(...receivedLogs);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(grpcFrame(Buffer.alloc(0)));
      notify();
    } catch (error) {
      if (!stream.destroyed) stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': encodeURIComponent((error as Error).message) }, { endStream: true });
    }
  };

  const grpcServer = options.tls
    ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: options.tls.requireClientCert === true, rejectUnauthorized: options.tls.requireClientCert === true, allowHTTP1: false })
    : http2.createServer();
  grpcServer.on('stream', (stream, headers) => void onGrpcStream(stream, headers));
  const sessions = new Set<http2.ServerHttp2Session>();
  grpcServer.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  const httpServer = http.createServer(async (request, response) => {
    const isMetrics = request.url === '/v1/metrics';
    const isLogs = request.url === LOGS_HTTP_PATH;
    if (request.method !== 'POST' || (request.url !== '/v1/traces' && !isMetrics && !isLogs)) {
      response.statusCode = 404;
      response.end();
      return;
    }
    try {
      const raw = await readBody(request);
      const encoding = String(request.headers['content-encoding'] ?? 'identity');
      const body = decompress(raw, encoding);
      const isJson = String(request.headers['content-type'] ?? '').includes('json');
      const parsed = isJson ? (JSON.parse(body.toString('utf8')) as Json) : undefined;
      const received = isMetrics || isLogs ? [] : parsed !== undefined ? flatten(parsed) : decodeProtobuf(body);
      const receivedPoints = !isMetrics ? [] : parsed !== undefined ? flattenMetrics(parsed) : decodeMetricsProtobuf(body);
      const receivedLogs = !isLogs ? [] : parsed !== undefined ? flattenLogs(parsed) : decodeLogsProtobuf(body);
      (isMetrics ? metricRequests : requests).push({
        signal: isMetrics ? 'metrics' : isLogs ? 'logs' : 'traces',
        protocol: isJson ? 'http/json' : 'http/protobuf',
        compressed: encoding !== 'identity',
        encoding,
        headers: { ...request.headers },
        spanCount: isMetrics ? receivedPoints.length : received.length,
        ...(isLogs ? { logRecordCount: receivedLogs.length } : {}),
      });
      const answer = behaviour;
      await delay(answer);
      const status = answer.httpStatus ?? 200;
      if (status !== 200) {
        if (answer.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(answer.retryAfterSeconds));
        response.statusCode = status;
        response.end();
        return;
      }
      spans.push(...received);
      metrics.push(...receivedPoints);
      logs.push(...receivedLogs);
      response.setHeader('content-type', isJson ? 'application/json' : 'application/x-protobuf');
      response.end(isJson ? '{}' : Buffer.alloc(0));
      notify();
    } catch (error) {
      response.statusCode = 400;
      response.end((error as Error).message);
    }
  });

  await new Promise<void>((resolve) => grpcServer.listen(options.grpcPort ?? 0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const grpcPort = (grpcServer.address() as AddressInfo).port;
  const httpPort = (httpServer.address() as AddressInfo).port;

  return {
    grpcEndpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    counts,
    spans,
    metrics,
    requests,
    metricRequests,
    logs,
    waitForLogs(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(logs)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(logs);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for log records; received:\n${logs.map((r) => `${r.severityText} ${JSON.stringify(r.body)} ${r.traceId}`).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(spans)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(spans);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for spans; received:\n${spanTree(spans)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    waitForMetrics(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(metrics)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(metrics);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const names = [...new Set(metrics.map((point) => point.name))].join(', ') || '(none)';
          reject(new Error(`timed out after ${timeoutMs} ms waiting for metrics; received ${metrics.length} points of: ${names}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    setBehaviour(next) {
      behaviour = { ...next };
    },
    reset() {
      spans.length = 0;
      metrics.length = 0;
      logs.length = 0;
      requests.length = 0;
      metricRequests.length = 0;
      counts.clear();
      behaviour = {};
    },
    async close() {
      for (const session of sessions) session.destroy();
      httpServer.closeAllConnections();
      await Promise.all([new Promise((resolve) => grpcServer.close(resolve)), new Promise((resolve) => httpServer.close(resolve))]);
    },
  };
}

export function childrenOf(spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
}

/** Indented tree of spans by parent, for assertion messages. */
export function spanTree(spans: readonly ReceivedSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanId));
  const lines: string[] = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    const service = String(span.resource['service.name'] ?? '?');
    lines.push(`${'  '.repeat(depth)}${span.kind} ${JSON.stringify(span.name)} [${service}] ${span.traceId.slice(0, 8)}/${span.spanId}${depth === 0 && span.parentSpanId ? ` parent=${span.parentSpanId}` : ''}`);
    for (const child of childrenOf(spans, span)) visit(child, depth + 1);
  };
  for (const span of spans) if (!ids.has(span.parentSpanId)) visit(span, 0);
  return lines.length === 0 ? '(no spans)' : lines.join('\n');
}
