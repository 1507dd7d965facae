import { context, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { BatchConfig } from '../config/index.ts';

/** Where the processor reports spans it could not queue (ExportHealth). */
export interface QueueOverflowReporter {
  droppedAtFullQueue(spanCount: number): void;
  /** Everything queued has been exported or given up on: report what is still unreported. */
  flushed(): void;
}

/** Exports in flight at once: enough to hide a collector's round trip without flooding it. */
export const MAX_CONCURRENT_EXPORTS = 4;
/** With a backlog, one export carries up to this many batches' worth of spans (fewer, cheaper requests). */
export const MAX_BATCH_GROWTH = 4;

/** What the policy needs of an exporter: spans' and log records' exporters alike. */
export interface BatchExporter<Item> {
  export(items: Item[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/**
 * Our batching policy, in place of upstream's BatchSpanProcessor (and of BatchLogRecordProcessor), which has
 * one export in flight and silently drops what does not fit its queue while
 * it waits (at a few thousand requests a second, most of the spans):
 * - a full batch (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) is exported right away, a
 *   partial one after OTEL_BSP_SCHEDULE_DELAY;
 * - up to MAX_CONCURRENT_EXPORTS exports are in flight; while they are all
 *   busy spans queue up, and the next export takes up to MAX_BATCH_GROWTH
 *   batches at once, so a slow collector gets fewer, bigger requests;
 * - only when OTEL_BSP_MAX_QUEUE_SIZE spans wait is a span dropped, and
 *   drops are counted and reported by ExportHealth (with the outage's lines
 *   if exports fail, else at most one line a minute and one at the flush),
 *   never silent;
 * - forceFlush and shutdown export everything queued and wait for every
 *   export in flight, so the spans of the last requests before SIGTERM leave;
 * - at process.exit() the queue and the exports still unanswered are handed
 *   over (takeUnexported) to be sent again by the exit flush.
 * The span processors (ReadableSpans for http/json, spans encoded at their
 * end for protobuf: EncodingSpanProcessor) and the log record processor
 * differ only in what they accept.
 */
export class BatchingProcessor<Item> {
  private queue: Item[] = [];
  private readonly exporter: BatchExporter<Item>;
  private readonly config: BatchConfig;
  private readonly overflow: QueueOverflowReporter;
  /** Each export in flight, with its spans. */
  private readonly inFlight = new Map<Promise<void>, Item[]>();
  private timer: NodeJS.Timeout | undefined;
  private exportScheduled = false;
  private isShutdown = false;

  constructor(exporter: BatchExporter<Item>, config: BatchConfig, overflow: QueueOverflowReporter) {
    this.exporter = exporter;
    this.config = config;
    this.overflow = overflow;
  }

  protected enqueue(item: Item): void {
    if (this.admits()) this.pushAdmitted(item);
  }

  /** Whether one more item fits in the queue; counts it as dropped when not. */
  protected admits(): boolean {
    if (this.isShutdown) return false;
    if (this.queue.length >= this.config.maxQueueSize) {
      this.overflow.droppedAtFullQueue(1);
      return false;
    }
    return true;
  }

  /** Queues an item admits() just let in (the encoding processor encodes in between, only what fits). */
  protected pushAdmitted(item: Item): void {
    const queue = this.queue;
    queue.push(item);
    if (queue.length >= this.config.maxExportBatchSize) this.scheduleExport();
    else if (this.timer === undefined) this.startTimer();
  }

  /**
   * Empties the queue, and the exports not yet answered, into the caller's
   * hands: at process.exit() the event loop will not run again, so the exit
   * flush exports these by other means. An export in flight dies with the
   * process (a cluster worker exits when its primary dies, often while the
   * flush at its own SIGTERM is under way): its spans are sent again, as a
   * retry would, since the collector may well not have them.
   */
  takeUnexported(): Item[] {
    this.clearTimer();
    const spans = [...this.inFlight.values()].flat().concat(this.queue);
    this.inFlight.clear();
    this.queue = [];
    return spans;
  }

  async forceFlush(): Promise<void> {
    this.clearTimer();
    const largest = this.config.maxExportBatchSize * MAX_BATCH_GROWTH;
    while (this.queue.length > 0) this.exportBatch(Math.min(this.queue.length, largest));
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.keys());
    this.overflow.flushed();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    await this.forceFlush();
    this.isShutdown = true;
    await this.exporter.shutdown();
  }

  /** Called once per exported batch when its export is answered or timed out: the items are never read again. */
  protected settled(_items: Item[]): void {}

  /** A full batch: export on the next turn of the event loop, outside the request that ended the span. */
  private scheduleExport(): void {
    if (this.exportScheduled) return;
    this.exportScheduled = true;
    setImmediate(() => {
      this.exportScheduled = false;
      this.exportWhatFits();
    });
  }

  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.exportWhatFits(true);
    }, this.config.scheduledDelayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fills the free export slots with full batches (and, when the timer fired, the partial rest). */
  private exportWhatFits(includePartial = false): void {
    const batchSize = this.config.maxExportBatchSize;
    while (this.inFlight.size < MAX_CONCURRENT_EXPORTS && (this.queue.length >= batchSize || (includePartial && this.queue.length > 0))) {
      const backlog = this.queue.length;
      this.exportBatch(backlog >= 2 * batchSize ? Math.min(backlog, batchSize * MAX_BATCH_GROWTH) : Math.min(backlog, batchSize));
    }
    if (this.queue.length > 0 && this.timer === undefined) this.startTimer();
  }

  private exportBatch(count: number): void {
    const spans = count >= this.queue.length ? this.queue : this.queue.slice(0, count);
    this.queue = count >= this.queue.length ? [] : this.queue.slice(count);
    if (this.queue.length === 0) this.clearTimer();
    const done = this.exportWithDeadline(spans).then(() => {
      // Unless takeUnexported handed them over meanwhile, the processor is done with these items.
      if (this.inFlight.delete(done)) this.settled(spans);
      // A slot is free: spans that queued meanwhile may fill it.
      if (!this.isShutdown && this.queue.length >= this.config.maxExportBatchSize) this.scheduleExport();
    });
    this.inFlight.set(done, spans);
  }

  /**
   * Resolves when the exporter answers or OTEL_BSP_EXPORT_TIMEOUT passes.
   * Failures are reported by the exporter (LazySpanExporter -> ExportHealth).
   */
  private exportWithDeadline(spans: Item[]): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.config.exportTimeoutMs);
      timer.unref();
      const onResult = (_result: ExportResult) => {
        clearTimeout(timer);
        resolve();
      };
      // The export's own HTTP/2 or HTTP request must not become a span.
      context.with(suppressTracing(context.active()), () => {
        try {
          this.exporter.export(spans, onResult);
        } catch (error) {
          onResult({ code: ExportResultCode.FAILED, error: error as Error });
        }
      });
    });
  }
}

export class BatchingSpanProcessor extends BatchingProcessor<ReadableSpan> implements SpanProcessor {
  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.enqueue(span);
  }
}
