/**
 * Runs in the worker thread started by exit-flush.ts while the main thread
 * waits: rebuilds the spans and exports them once, no retries (the main
 * thread's deadline is short), then wakes the main thread.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { createOtlpExporter } from '../export/otlp-exporter.ts';
import { W3CTraceState } from '../propagators/trace-state.ts';
import type { PlainSpan, PlainSpanContext } from './exit-flush.ts';

interface ExitFlushData {
  done: Int32Array;
  port: MessagePort;
  otlp: OtlpConfig;
  spans: PlainSpan[];
  timeoutMs: number;
}

const data = workerData as ExitFlushData;

function finish(code: 1 | 2, error?: string): void {
  if (error !== undefined) data.port.postMessage({ error });
  Atomics.store(data.done, 0, code);
  Atomics.notify(data.done, 0);
}

function toSpanContext(plain: PlainSpanContext) {
  // Ours, not upstream's TraceState: that one drops keys of the current W3C grammar such as `foo@`.
  return { ...plain, traceState: W3CTraceState.parse(plain.traceState) };
}

function toReadableSpans(spans: readonly PlainSpan[]): ReadableSpan[] {
  // The OTLP encoder groups spans by resource object identity: one object per distinct resource.
  const resources = new Map<string, PlainSpan['resource']>();
  return spans.map((plain) => {
    const key = JSON.stringify(plain.resource);
    const resource = resources.get(key) ?? { ...plain.resource, asyncAttributesPending: false };
    resources.set(key, resource);
    const context = toSpanContext(plain.spanContext);
    return {
      ...plain,
      spanContext: () => context,
      parentSpanContext: plain.parentSpanContext === undefined ? undefined : toSpanContext(plain.parentSpanContext),
      links: plain.links.map((link) => ({ ...link, context: toSpanContext(link.context) })),
      resource,
    } as unknown as ReadableSpan;
  });
}

try {
  const exporter = createOtlpExporter({ ...data.otlp, timeoutMs: Math.min(data.otlp.timeoutMs, data.timeoutMs) }, { retry: false });
  exporter.export(toReadableSpans(data.spans), (result) => {
    if (result.code === ExportResultCode.SUCCESS) finish(1);
    else finish(2, result.error?.message.split('\n')[0] ?? 'export failed');
  });
} catch (error) {
  finish(2, (error as Error).message);
}
