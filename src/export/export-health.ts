import { printLine } from '../logging.ts';

/**
 * Turns a stream of export results into two lines a person can act on: one
 * when exporting starts failing (with the reason) and one when it recovers
 * (with how many spans were lost in between). Never one line per batch.
 */
export class ExportHealth {
  private failing = false;
  private droppedWhileFailing = 0;
  private readonly target: string;
  /** Errors already reported here, so the SDK's global error handler can stay quiet about them. */
  readonly reported = new WeakSet<object>();

  constructor(target: string) {
    this.target = target;
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    printLine(`exporting spans to ${this.target} works again; ${this.droppedWhileFailing} spans were dropped while it failed`);
    this.droppedWhileFailing = 0;
  }

  private droppedQueueFull = 0;

  /**
   * A span found the export queue full (the collector takes spans slower
   * than the app ends them). The first of a run prints one line; the rest
   * are counted for queueRecovered().
   */
  queueFull(capacity: number): void {
    if (this.droppedQueueFull++ > 0) return;
    printLine(`the export queue is full (${capacity} spans, OTEL_BSP_MAX_QUEUE_SIZE): ${this.target} takes spans slower than the app ends them; new spans are dropped and counted until it catches up`);
  }

  /** The queue has room again, or the process is flushing at exit: how many spans the full queue cost. */
  queueRecovered(): void {
    if (this.droppedQueueFull === 0) return;
    printLine(`${this.droppedQueueFull} spans were dropped because the export queue was full`);
    this.droppedQueueFull = 0;
  }

  failed(spanCount: number, error: Error | undefined): void {
    if (error !== undefined) this.reported.add(error);
    this.droppedWhileFailing += spanCount;
    if (this.failing) return;
    this.failing = true;
    printLine(`exporting spans to ${this.target} failed (${describeExportError(error)}); spans are dropped until it works again`);
  }
}

/** The message only: gRPC errors carry the metadata, which may hold the user's API key. */
function describeExportError(error: Error | undefined): string {
  if (error === undefined) return 'no reason given';
  const message = error.message.split('\n')[0] ?? '';
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
