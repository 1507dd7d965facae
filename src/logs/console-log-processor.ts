import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { writeToStdout } from '../export/console-tree-processor.ts';

/** How long a write to a full stdout pipe may wait before the line is given up. */
const STDOUT_PATIENCE_MS = 1_000;

/**
 * OTEL_LOGS_EXPORTER=console: one line per record, written as it is logged
 * (so nothing waits for a flush at exit), with the trace and span ids a
 * person can look up:
 *   2026-11-30T01:02:03.456Z INFO  in the request  trace_id=4bf9… span_id=00f0… url="/hello"
 */
export class ConsoleLogRecordProcessor implements LogRecordProcessor {
  onEmit(logRecord: ReadWriteLogRecord): void {
    try {
      writeToStdout(`${formatLogRecord(logRecord)}\n`, STDOUT_PATIENCE_MS);
    } catch {
      // stdout closed (piped into head, say): the app must not notice.
    }
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export function formatLogRecord(record: Pick<ReadWriteLogRecord, 'hrTime' | 'severityText' | 'severityNumber' | 'body' | 'attributes' | 'spanContext'>): string {
  const time = new Date(hrTimeToMilliseconds(record.hrTime)).toISOString();
  const severity = (record.severityText ?? String(record.severityNumber ?? '')).toUpperCase().padEnd(5);
  const body = typeof record.body === 'string' ? record.body : JSON.stringify(record.body ?? '');
  const trace = record.spanContext === undefined ? 'trace_id=- span_id=-' : `trace_id=${record.spanContext.traceId} span_id=${record.spanContext.spanId}`;
  const attributes = Object.entries(record.attributes).map(([key, value]) => `${key}=${compact(value)}`);
  return [time, severity, oneLine(body), trace, ...attributes].join(' ');
}

function compact(value: unknown): string {
  try {
    return oneLine(JSON.stringify(value) ?? String(value));
  } catch {
    return '[unserializable]';
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
