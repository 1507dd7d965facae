import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { printLine } from '../logging.ts';
import { exitDeadline } from './exit-deadline.ts';
import type { PlainResourceMetrics } from '../metrics/exit-collection.ts';

/** The last metric collection, taken synchronously at exit, and where it goes. */
export interface ExitMetrics {
  collect: () => PlainResourceMetrics | undefined;
  otlp: OtlpConfig;
}

/**
 * What an exporter still holds, handed over without the event loop: each
 * runs synchronously from the one 'exit' listener below.
 */
export type ExitFlusher = () => void;

/**
 * process.exit() and an uncaught exception end the process without running
 * the event loop again, so timers (the batch processor's, the console view's
 * settle timer) and sockets are dead by then. 'exit' listeners run
 * synchronously, and that is the one moment left: every exporter's flusher
 * runs in turn, in the order given. Then the process ends exactly as it
 * would have: same exit code, same error output, no app code run in between.
 */
export function installExitFlush(flushers: readonly ExitFlusher[]): void {
  if (flushers.length === 0) return;
  process.on('exit', () => {
    for (const flush of flushers) {
      try {
        flush();
      } catch {
        // One exporter's failure must neither stop the next nor change how the process ends.
      }
    }
  });
}

/**
 * The spans an OTLP span exporter still holds at exit, as they can cross to
 * the worker: one encoded ExportTraceServiceRequest (spans encoded at their
 * end), or plain spans (http/json, serialized by upstream in the worker).
 */
export interface ExitSpans {
  count: number;
  encoded?: Uint8Array;
  plain?: PlainSpan[];
}

/**
 * OTLP at exit: the pending spans, and the last metric collection when
 * metrics go to OTLP too, are handed to one worker thread, which exports them
 * with the same OTLP settings while this thread blocks (Atomics.wait) for at
 * most `timeoutMs` for both signals together, or what is left of it when
 * process.exit() cuts short a flush under way (at a signal or beforeExit:
 * the exit deadline); none after a second Ctrl-C.
 */
export function otlpExitFlusher(takeUnexported: () => ExitSpans, otlp: OtlpConfig, timeoutMs: number, metrics?: ExitMetrics): ExitFlusher {
  return () => {
    const spans = takeUnexported();
    const collection = metrics?.collect();
    if (spans.count === 0 && collection === undefined) return;
    // One worker, one deadline for both signals.
    const timeLeftMs = Math.min(timeoutMs, exitDeadline() - Date.now());
    const outcome: ExitOutcome =
      timeLeftMs >= MIN_WORKER_FLUSH_MS ? exportInWorker(spans, otlp, timeLeftMs, collection === undefined || metrics === undefined ? undefined : { otlp: metrics.otlp, collection }) : { spans: 'no time left to flush', metrics: 'no time left to flush' };
    const spansLost = outcome.spans !== undefined && spans.count > 0;
    const metricsLost = outcome.metrics !== undefined && collection !== undefined;
    const points = collection?.scopeMetrics.reduce((sum, scope) => sum + scope.metrics.reduce((inner, metric) => inner + metric.dataPoints.length, 0), 0);
    // One line for one problem: a collector that did not answer loses both.
    if (spansLost && metricsLost) printLine(`${spans.count} spans ended just before exit could not be exported (${outcome.spans}), nor the last metric collection (${points} metric points)`);
    else if (spansLost) printLine(`${spans.count} spans ended just before exit could not be exported (${outcome.spans})`);
    else if (metricsLost) printLine(`the last metric collection at exit (${points} metric points) could not be exported (${outcome.metrics})`);
  };
}

/**
 * A worker needs about this long to load the exporter and send, on an idle
 * machine: with less time left it cannot succeed, and one still starting up
 * when the process ends holds the exit until it can be stopped.
 */
const MIN_WORKER_FLUSH_MS = 250;

/**
 * Beside this file when unbundled (.ts when run from source in unit tests);
 * from the built bundle dist/src/start.js, in dist/src/lifecycle/.
 */
export function workerFile(folder = 'lifecycle', name = 'exit-flush-worker'): string {
  const extension = path.extname(__filename);
  const beside = path.join(__dirname, '..', folder, `${name}${extension}`);
  return existsSync(beside) ? beside : path.join(__dirname, folder, `${name}${extension}`);
}

/** Done: 1 = exported, 2 = failed (reason posted on the port). */
const PENDING = 0;

/** What failed, per signal (undefined: exported or nothing to send). */
interface ExitOutcome {
  spans?: string;
  metrics?: string;
}

function exportInWorker(
  spans: ExitSpans,
  otlp: OtlpConfig,
  timeoutMs: number,
  metrics: { otlp: OtlpConfig; collection: PlainResourceMetrics } | undefined,
): ExitOutcome {
  const payload = spans.count === 0 ? {} : { spans: spans.plain, encodedSpans: spans.encoded };
  const outcome = exportInWorkerThread(workerFile(), { otlp, ...payload, timeoutMs, metrics }, timeoutMs);
  if (outcome === undefined) return {};
  return { spans: outcome.answer.error ?? outcome.reason, metrics: outcome.answer.metricsError ?? outcome.reason };
}

/**
 * What a worker said when it did not export everything: its answer names what
 * failed per signal (`error`, `metricsError`, …); `reason` covers them all when
 * it did not answer in time or could not start.
 */
export interface WorkerFailure {
  answer: Readonly<Record<string, string | undefined>>;
  reason: string | undefined;
}

/**
 * Starts `file` (a worker of src/<folder>/, see workerFile) with `data` and
 * blocks until it reports done or `timeoutMs` passes: undefined when it
 * exported, else what failed. Shared by every signal's exit flush.
 */
export function exportInWorkerThread(file: string, data: Record<string, unknown>, timeoutMs: number): WorkerFailure | undefined {
  const startedAt = Date.now();
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(file, {
      workerData: { ...data, done, port: port2 },
      transferList: [port2],
      // Lean and silent: none of the app's preloads, and nothing the worker prints reaches the app's output.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
  } catch (error) {
    return { answer: {}, reason: `no worker thread: ${(error as Error).message}` };
  }
  Atomics.wait(done, 0, PENDING, timeoutMs);
  const answer = (receiveMessageOnPort(port1)?.message ?? {}) as Record<string, string | undefined>;
  port1.close();
  if (Atomics.load(done, 0) === 1) return undefined;
  void worker.terminate();
  return { answer, reason: Atomics.load(done, 0) === 2 ? undefined : `no answer within ${Date.now() - startedAt} ms` };
}

export interface PlainSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  isRemote?: boolean;
}

/** A ReadableSpan reduced to data, so it can cross to the worker (structured clone copies no functions). */
export type PlainSpan = Omit<ReadableSpan, 'spanContext' | 'parentSpanContext' | 'links' | 'resource'> & {
  spanContext: PlainSpanContext;
  parentSpanContext?: PlainSpanContext;
  links: { context: PlainSpanContext; attributes?: ReadableSpan['attributes']; droppedAttributesCount?: number }[];
  resource: { attributes: ReadableSpan['resource']['attributes']; schemaUrl?: string };
};

function toPlainContext(context: SpanContext): PlainSpanContext {
  return { traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags, traceState: context.traceState?.serialize(), isRemote: context.isRemote };
}

export function toPlainSpan(span: ReadableSpan): PlainSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: toPlainContext(span.spanContext()),
    parentSpanContext: span.parentSpanContext === undefined ? undefined : toPlainContext(span.parentSpanContext),
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    status: { ...span.status },
    attributes: { ...span.attributes },
    links: span.links.map((link) => ({ context: toPlainContext(link.context), attributes: link.attributes, droppedAttributesCount: link.droppedAttributesCount })),
    events: span.events.map((event) => ({ name: event.name, time: event.time, attributes: event.attributes, droppedAttributesCount: event.droppedAttributesCount })),
    ended: span.ended,
    resource: { attributes: { ...span.resource.attributes }, schemaUrl: span.resource.schemaUrl },
    instrumentationScope: { ...span.instrumentationScope },
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
