import type { SpanContext } from '@opentelemetry/api';
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { OtlpConfig } from '../config/otlp.ts';
import { exportInWorkerThread, workerFile, type ExitFlusher } from '../lifecycle/exit-flush.ts';
import { printLine } from '../logging.ts';

/** A log record reduced to data, so it can cross to the worker (structured clone copies no functions). */
export interface PlainLogRecord {
  hrTime: ReadWriteLogRecord['hrTime'];
  hrTimeObserved: ReadWriteLogRecord['hrTimeObserved'];
  spanContext?: SpanContext;
  severityText?: string;
  severityNumber?: number;
  body?: unknown;
  eventName?: string;
  attributes: ReadWriteLogRecord['attributes'];
  droppedAttributesCount: number;
  resource: { attributes: ReadWriteLogRecord['resource']['attributes']; schemaUrl?: string };
  instrumentationScope: { name: string; version?: string; schemaUrl?: string };
}

export function toPlainLogRecord(record: ReadWriteLogRecord): PlainLogRecord {
  const context = record.spanContext;
  return {
    hrTime: record.hrTime,
    hrTimeObserved: record.hrTimeObserved,
    spanContext: context === undefined ? undefined : { traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags },
    severityText: record.severityText,
    severityNumber: record.severityNumber,
    body: record.body,
    eventName: record.eventName,
    attributes: { ...record.attributes },
    droppedAttributesCount: record.droppedAttributesCount,
    resource: { attributes: { ...record.resource.attributes }, schemaUrl: record.resource.schemaUrl },
    instrumentationScope: { name: record.instrumentationScope.name, version: record.instrumentationScope.version, schemaUrl: record.instrumentationScope.schemaUrl },
  };
}

/**
 * process.exit() or an uncaught exception: the records still queued (or in
 * an export the process will not see answered) are exported by a worker
 * thread while this one waits, at most `timeoutMs`, as spans are.
 */
export function otlpLogsExitFlusher(takeUnexported: () => readonly ReadWriteLogRecord[], otlp: OtlpConfig, timeoutMs: number): ExitFlusher {
  return () => {
    const records = takeUnexported();
    if (records.length === 0) return;
    const outcome = exportInWorkerThread(workerFile('logs', 'exit-flush-worker'), { otlp, records: records.map(toPlainLogRecord), timeoutMs }, timeoutMs);
    const reason = outcome === undefined ? undefined : (outcome.answer.error ?? outcome.reason ?? 'export failed');
    if (reason !== undefined) printLine(`${records.length} log records logged just before exit could not be exported (${reason})`);
  };
}
