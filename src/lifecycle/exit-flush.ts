import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { printLine } from '../logging.ts';

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
 * OTLP at exit: the pending spans are handed to a worker thread, which
 * exports them with the same OTLP settings while this thread blocks
 * (Atomics.wait) for at most `timeoutMs`.
 */
export function otlpExitFlusher(takeUnexported: () => readonly ReadableSpan[], otlp: OtlpConfig, timeoutMs: number): ExitFlusher {
  return () => {
    const spans = takeUnexported();
    if (spans.length === 0) return;
    const outcome = exportInWorker(spans, otlp, timeoutMs);
    if (outcome !== undefined) printLine(`${spans.length} spans ended just before exit could not be exported (${outcome})`);
  };
}

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

function exportInWorker(spans: readonly ReadableSpan[], otlp: OtlpConfig, timeoutMs: number): string | undefined {
  return exportInWorkerThread(workerFile(), { otlp, spans: spans.map(toPlainSpan), timeoutMs }, timeoutMs);
}

/**
 * Starts `file` (a worker of src/<folder>/, see workerFile) with `data` and
 * blocks until it reports done or `timeoutMs` passes: undefined when it
 * exported, else the reason. Shared by every signal's exit flush.
 */
export function exportInWorkerThread(file: string, data: Record<string, unknown>, timeoutMs: number): string | undefined {
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
    return `no worker thread: ${(error as Error).message}`;
  }
  Atomics.wait(done, 0, PENDING, timeoutMs);
  const message = receiveMessageOnPort(port1)?.message as { error?: string } | undefined;
  port1.close();
  if (Atomics.load(done, 0) === 1) return undefined;
  void worker.terminate();
  return message?.error ?? `no answer within ${Date.now() - startedAt} ms`;
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
