import { createNoopMeter, type Attributes, type Meter, type MeterProvider } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { printLine } from '../logging.ts';

/** The batch processor's self-observability counter; error.type=queue_full marks spans dropped at a full queue. */
const PROCESSED_SPANS_METRIC = 'otel.sdk.processor.span.processed';
/** While exports work, a full queue is reported at most this often, with the count since the last line. */
const QUEUE_FULL_REPORT_INTERVAL_MS = 60_000;

/**
 * Turns a stream of export results into two lines a person can act on: one
 * when exporting starts failing (with the reason) and one when it recovers
 * (with how many spans were lost in between: in failed batches and at the
 * full queue). Never one line per batch or per span.
 */
export class ExportHealth {
  private failing = false;
  private droppedWhileFailing = 0;
  private queueDropsUnreported = 0;
  private lastQueueFullLineAt = Number.NEGATIVE_INFINITY;
  private readonly target: string;
  private readonly maxQueueSize: number | undefined;
  private readonly now: () => number;
  /** Errors already reported here, so the SDK's global error handler can stay quiet about them. */
  readonly reported = new WeakSet<object>();
  /** Told when a batch leaves for the exporter (the exit flush must not send it again). */
  onExportStarted: ((spans: readonly ReadableSpan[]) => void) | undefined;

  constructor(target: string, maxQueueSize?: number, now: () => number = Date.now) {
    this.target = target;
    this.maxQueueSize = maxQueueSize;
    this.now = now;
  }

  exportStarted(spans: readonly ReadableSpan[]): void {
    this.onExportStarted?.(spans);
  }

  succeeded(): void {
    if (!this.failing) {
      this.reportQueueDrops();
      return;
    }
    this.failing = false;
    printLine(`exporting spans to ${this.target} works again; ${this.droppedWhileFailing} spans were dropped while it failed`);
    this.droppedWhileFailing = 0;
  }

  failed(spanCount: number, error: Error | undefined): void {
    if (error !== undefined) this.reported.add(error);
    // Drops at the full queue while this export hung belong to the same outage.
    this.droppedWhileFailing += spanCount + this.queueDropsUnreported;
    this.queueDropsUnreported = 0;
    if (this.failing) return;
    this.failing = true;
    printLine(`exporting spans to ${this.target} failed (${describeExportError(error)}); spans are dropped until it works again`);
  }

  /**
   * Spans the batch processor dropped because its queue was full. Whether that
   * is an outage or plain overload shows at the next export's outcome, so they
   * are reported then: with the outage's lines, or as overload after a success.
   */
  droppedAtFullQueue(spanCount: number): void {
    if (this.failing) this.droppedWhileFailing += spanCount;
    else this.queueDropsUnreported += spanCount;
  }

  private reportQueueDrops(): void {
    if (this.queueDropsUnreported === 0 || this.now() - this.lastQueueFullLineAt < QUEUE_FULL_REPORT_INTERVAL_MS) return;
    this.lastQueueFullLineAt = this.now();
    const limit = this.maxQueueSize === undefined ? '' : ` (OTEL_BSP_MAX_QUEUE_SIZE=${this.maxQueueSize})`;
    printLine(`the span queue${limit} is full: exports to ${this.target} cannot keep up; ${this.queueDropsUnreported} spans dropped`);
    this.queueDropsUnreported = 0;
  }

  /**
   * A MeterProvider for the batch processor's `selfObsMeterProvider` option that
   * hears only its queue_full drops: the processor's own report of them is a
   * log line per export cycle, which we silence.
   */
  queueDropMeterProvider(): MeterProvider {
    const noop = createNoopMeter();
    const meter: Meter = Object.create(noop) as Meter;
    meter.createCounter = ((name: string, options?: object) => {
      if (name !== PROCESSED_SPANS_METRIC) return noop.createCounter(name, options);
      return {
        add: (value: number, attributes?: Attributes) => {
          if (attributes?.['error.type'] === 'queue_full') this.droppedAtFullQueue(value);
        },
      };
    }) as Meter['createCounter'];
    return { getMeter: () => meter };
  }
}

/** The message only: gRPC errors carry the metadata, which may hold the user's API key. */
function describeExportError(error: Error | undefined): string {
  if (error === undefined) return 'no reason given';
  const message = error.message.split('\n')[0] ?? '';
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
