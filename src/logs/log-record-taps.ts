/**
 * Where the log libraries' taps (see src/instrumentations/log-correlation.ts)
 * hand their records over. Light on purpose: it is loaded with the
 * instrumentations, and the logs SDK behind it loads only when a log library
 * is (start()), so a process that never loads pino, winston or bunyan never
 * pays for it.
 */
import type { AnyValue, SeverityNumber } from '@opentelemetry/api';

/** Attributes of a log record may be nested maps and arrays (OTLP AnyValue). */
export type AnyValueMap = Record<string, AnyValue>;

/** One record as the library logged it, already mapped to OTLP's fields. */
export interface TappedLogRecord {
  readonly severityNumber: SeverityNumber;
  readonly severityText: string;
  readonly body: AnyValue;
  readonly attributes: AnyValueMap;
  /** Milliseconds since the epoch, the time the library put on the record. */
  readonly timestamp: number | undefined;
}

/** The library's instrumentation scope name: upstream's, so backends' queries keep working after the switch. */
export type LogLibrary = 'pino' | 'winston' | 'bunyan';

export interface LogRecordSink {
  /** A log library was loaded: the logs SDK and exporter load now, not on the first request's log line. */
  start(): void;
  /** Called synchronously from the logging call, so the active context is the caller's (trace correlation). */
  emit(library: LogLibrary, record: TappedLogRecord): void;
}

let sink: LogRecordSink | undefined;

/** Set once by start() when OTEL_LOGS_EXPORTER names an exporter; without it every tap does nothing. */
export function connectLogRecordSink(next: LogRecordSink | undefined): void {
  sink = next;
}

export function logRecordsWanted(): boolean {
  return sink !== undefined;
}

export function startLogRecords(): void {
  try {
    sink?.start();
  } catch {
    // The sink reports its own failures; the app's logging must go on.
  }
}

/** Never throws: a record we cannot send must not break the app's logging call. */
export function emitLogRecord(library: LogLibrary, record: TappedLogRecord): void {
  try {
    sink?.emit(library, record);
  } catch {
    // Reported by the sink where it can be; the app's log line is written regardless.
  }
}

/** The fields the log instrumentations add for correlation: on the OTLP record as trace and span ids, not as attributes. */
export const CORRELATION_FIELDS: ReadonlySet<string> = new Set(['trace_id', 'span_id', 'trace_flags']);
