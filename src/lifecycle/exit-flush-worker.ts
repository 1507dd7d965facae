/**
 * Runs in the worker thread started by exit-flush.ts while the main thread
 * waits: rebuilds the spans and exports them once, no retries (the main
 * thread's deadline is short), then wakes the main thread.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { createEncodedSpanSender, isEncodedProtocol } from '../export/encoded-span-exporter.ts';
import { createOtlpExporter } from '../export/otlp-exporter.ts';
import type { PlainResourceMetrics } from '../metrics/exit-collection.ts';
import { createOtlpMetricExporter } from '../metrics/otlp-metric-exporter.ts';
import { W3CTraceState } from '../propagators/trace-state.ts';
import type { PlainSpan, PlainSpanContext } from './exit-flush.ts';

interface ExitFlushData {
  done: Int32Array;
  port: MessagePort;
  otlp: OtlpConfig;
  /** Plain spans (http/json), or one encoded ExportTraceServiceRequest (grpc, http/protobuf), or neither. */
  spans?: PlainSpan[];
  encodedSpans?: Uint8Array;
  timeoutMs: number;
  /** The last metric collection, when metrics go to OTLP. */
  metrics?: { otlp: OtlpConfig; collection: PlainResourceMetrics };
}

const data = workerData as ExitFlushData;

/** Both exports run at once; the main thread is woken when the last one answers. */
const errors: { error?: string; metricsError?: string } = {};
let pending = 0;

function settle(key: 'error' | 'metricsError', error?: string): void {
  if (error !== undefined) errors[key] = error;
  if (--pending > 0) return;
  const failed = errors.error !== undefined || errors.metricsError !== undefined;
  if (failed) data.port.postMessage(errors);
  Atomics.store(data.done, 0, failed ? 2 : 1);
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

const reason = (error: Error | undefined) => error?.message.split('\n')[0] ?? 'export failed';
const exportSpans = (data.spans?.length ?? 0) > 0 || data.encodedSpans !== undefined;
pending = (exportSpans ? 1 : 0) + (data.metrics === undefined ? 0 : 1);

if (exportSpans) {
  try {
    const otlp = { ...data.otlp, timeoutMs: Math.min(data.otlp.timeoutMs, data.timeoutMs) };
    const answer = (result: { code: ExportResultCode; error?: Error }) => settle('error', result.code === ExportResultCode.SUCCESS ? undefined : reason(result.error));
    if (data.encodedSpans !== undefined && isEncodedProtocol(otlp.protocol)) {
      createEncodedSpanSender({ ...otlp, protocol: otlp.protocol }, { retry: false }).export({ bytes: data.encodedSpans, spanCount: 0 }, answer);
    } else {
      createOtlpExporter(otlp, { retry: false }).export(toReadableSpans(data.spans ?? []), answer);
    }
  } catch (error) {
    settle('error', (error as Error).message);
  }
}

if (data.metrics !== undefined) {
  try {
    const { otlp, collection } = data.metrics;
    const exporter = createOtlpMetricExporter({ ...otlp, timeoutMs: Math.min(otlp.timeoutMs, data.timeoutMs) });
    const resourceMetrics = { ...collection, resource: { ...collection.resource, asyncAttributesPending: false } };
    exporter.export(resourceMetrics as unknown as Parameters<typeof exporter.export>[0], (result) =>
      settle('metricsError', result.code === ExportResultCode.SUCCESS ? undefined : reason(result.error)),
    );
  } catch (error) {
    settle('metricsError', (error as Error).message);
  }
}
