import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { exitDeadline } from '../lifecycle/exit-deadline.ts';
import { GrpcStatus } from './grpc-status.ts';

/**
 * Upstream's OTLP/HTTP exporters retry (429/502/503/504 and network errors,
 * honouring Retry-After); its gRPC exporter (otlp-grpc-exporter-base 0.301)
 * does not retry at all. This adds what the OTLP spec asks of a gRPC client
 * (specification/protocol/exporter.md, "Retry"): retry the retryable codes
 * with exponential backoff and jitter, RESOURCE_EXHAUSTED only when the server
 * says recovery is possible with a google.rpc.RetryInfo, whose delay is then
 * used. Same budget as upstream's HTTP retries: at most 5 retries, 1 s first
 * backoff growing 1.5x up to 5 s, all within one OTLP timeout.
 */
const RETRYABLE_CODES = new Set([GrpcStatus.CANCELLED, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.ABORTED, GrpcStatus.OUT_OF_RANGE, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS]);
const { RESOURCE_EXHAUSTED } = GrpcStatus;
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/** One export attempt of a batch (spans, or an encoded request) and its answer. */
export interface BatchSender<Batch> {
  /** timeoutMs: what is left of the export's time (a retry's share); a sender that cannot take it uses its own. */
  export(batch: Batch, resultCallback: (result: ExportResult) => void, timeoutMs?: number): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

export class GrpcRetryingExporter<Batch = ReadableSpan[]> implements BatchSender<Batch> {
  private readonly inner: BatchSender<Batch>;
  private readonly timeoutMs: number;
  private stopped = false;

  constructor(inner: BatchSender<Batch>, timeoutMs: number) {
    this.inner = inner;
    this.timeoutMs = timeoutMs;
  }

  export(spans: Batch, resultCallback: (result: ExportResult) => void): void {
    const deadline = Date.now() + this.timeoutMs;
    let retries = 0;
    let backoff = INITIAL_BACKOFF_MS;
    // Each attempt gets what is left of the one OTLP timeout, never a fresh one. (Not bounded by the exit
    // deadline: at exit, what is still in flight then is handed to the exit flush, which says what became of it.)
    const attempt = () => this.inner.export(spans, onResult, Math.max(1, deadline - Date.now()));
    const onResult = (result: ExportResult) => {
      if (result.code === ExportResultCode.SUCCESS || this.stopped || retries >= MAX_RETRIES) return resultCallback(result);
      const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
      const delay = retryDelayMs(result.error, jittered);
      if (delay === undefined || Date.now() + delay >= Math.min(deadline, exitDeadline())) return resultCallback(result);
      retries++;
      backoff *= BACKOFF_MULTIPLIER;
      setTimeout(attempt, delay);
    };
    attempt();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.inner.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
  }
}

/** How long to wait before retrying after `error`; undefined when the spec says not to retry. */
export function retryDelayMs(error: unknown, backoffMs: number): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'number') return undefined;
  const serverDelay = retryInfoDelayMs(error);
  if (code === RESOURCE_EXHAUSTED) return serverDelay;
  if (!RETRYABLE_CODES.has(code)) return undefined;
  return serverDelay ?? backoffMs;
}

/** The retry_delay of a google.rpc.RetryInfo in the grpc-status-details-bin trailer, in ms. */
export function retryInfoDelayMs(error: unknown): number | undefined {
  const metadata = (error as { metadata?: { get?: (key: string) => unknown[] } } | undefined)?.metadata;
  const raw = typeof metadata?.get === 'function' ? metadata.get('grpc-status-details-bin')[0] : undefined;
  if (!(raw instanceof Uint8Array)) return undefined;
  try {
    // google.rpc.Status { repeated google.protobuf.Any details = 3 }
    for (const detail of fieldsOf(raw).filter((f) => f.number === 3 && f.bytes !== undefined)) {
      const any = fieldsOf(detail.bytes!);
      const typeUrl = any.find((f) => f.number === 1)?.bytes;
      const value = any.find((f) => f.number === 2)?.bytes;
      if (typeUrl === undefined || value === undefined || Buffer.from(typeUrl).toString('utf8') !== RETRY_INFO_TYPE) continue;
      // RetryInfo { google.protobuf.Duration retry_delay = 1 }, Duration { int64 seconds = 1; int32 nanos = 2 }
      const duration = fieldsOf(fieldsOf(value).find((f) => f.number === 1)?.bytes ?? new Uint8Array());
      const seconds = duration.find((f) => f.number === 1)?.varint ?? 0;
      const nanos = duration.find((f) => f.number === 2)?.varint ?? 0;
      const ms = seconds * 1000 + Math.floor(nanos / 1e6);
      return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
    }
  } catch {
    // A malformed trailer is no reason to retry differently.
  }
  return undefined;
}

interface ProtoField {
  number: number;
  varint?: number;
  bytes?: Uint8Array;
}

/** Just enough protobuf wire format for small answers (the three messages above, a partial success): varints and length-delimited fields. */
export function fieldsOf(buffer: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      if (offset >= buffer.length) throw new Error('truncated varint');
      const byte = buffer[offset++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
      if (multiplier > 2 ** 63) throw new Error('varint too long');
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        fields.push({ number, varint: varint() });
        break;
      case 2: {
        const length = varint();
        if (offset + length > buffer.length) throw new Error('truncated field');
        fields.push({ number, bytes: buffer.subarray(offset, offset + length) });
        offset += length;
        break;
      }
      case 1:
        offset += 8;
        break;
      case 5:
        offset += 4;
        break;
      default:
        throw new Error('unsupported wire type');
    }
  }
  return fields;
}
