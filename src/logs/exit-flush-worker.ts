/**
 * Runs in the worker thread started by exit-flush.ts while the main thread
 * waits: rebuilds the log records and exports them once, no retries, then
 * wakes the main thread (as src/lifecycle/exit-flush-worker.ts does for spans).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { OtlpConfig } from '../config/otlp.ts';
import { createOtlpLogExporter } from './otlp-log-exporter.ts';
import type { PlainLogRecord } from './exit-flush.ts';

interface LogsExitFlushData {
  done: Int32Array;
  port: MessagePort;
  otlp: OtlpConfig;
  records: PlainLogRecord[];
  timeoutMs: number;
}

const data = workerData as LogsExitFlushData;

function finish(code: 1 | 2, error?: string): void {
  if (error !== undefined) data.port.postMessage({ error });
  Atomics.store(data.done, 0, code);
  Atomics.notify(data.done, 0);
}

function toReadableLogRecords(records: readonly PlainLogRecord[]): ReadableLogRecord[] {
  // The OTLP encoder groups records by resource object identity: one object per distinct resource.
  const resources = new Map<string, PlainLogRecord['resource']>();
  return records.map((plain) => {
    const key = JSON.stringify(plain.resource);
    const resource = resources.get(key) ?? { ...plain.resource, asyncAttributesPending: false };
    resources.set(key, resource);
    return { ...plain, resource } as unknown as ReadableLogRecord;
  });
}

try {
  const exporter = createOtlpLogExporter({ ...data.otlp, timeoutMs: Math.min(data.otlp.timeoutMs, data.timeoutMs) }, { retry: false });
  exporter.export(toReadableLogRecords(data.records), (result) => {
    if (result.code === ExportResultCode.SUCCESS) finish(1);
    else finish(2, result.error?.message.split('\n')[0] ?? 'export failed');
  });
} catch (error) {
  finish(2, (error as Error).message);
}
