import { reportAtProcessEnd } from '../lifecycle/process-end-reports.ts';
import { printLine } from '../logging.ts';

/** While exports work, a full queue is reported at most this often, with the count since the last line. */
const QUEUE_FULL_REPORT_INTERVAL_MS = 60_000;

/** How the lines name what is exported: the signal, and the unit its losses are counted in. */
export interface ExportedItems {
  readonly signal: string;
  readonly items: string;
  /** How the full-queue line names the queue and its limit (the span queue's by default). */
  readonly queue?: string;
  readonly queueVariable?: string;
  /** An outage still on when the process ends is reported with its count then (else the count only comes with the recovery line). */
  readonly reportOutageAtProcessEnd?: boolean;
}

export const SPANS: ExportedItems = { signal: 'spans', items: 'spans' };

/**
 * Spans, metrics and logs usually go to the same collector: when it fails, that
 * is one problem and one line, from the signal that noticed first. Each signal
 * still reports its own recovery line with its own count.
 */
const failingByTarget = new Map<string, Set<ExportHealth>>();
export const METRIC_POINTS: ExportedItems = { signal: 'metrics', items: 'metric points' };
export const LOG_RECORDS: ExportedItems = { signal: 'logs', items: 'log records', queue: 'log record queue', queueVariable: 'OTEL_BLRP_MAX_QUEUE_SIZE', reportOutageAtProcessEnd: true };

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
  private nextTicket = 0;
  private readonly inFlight = new Set<number>();
  /** During an outage, the first export that succeeded. */
  private recoveredBy: number | undefined;
  private readonly target: string;
  private readonly maxQueueSize: number | undefined;
  private readonly now: () => number;
  private readonly what: ExportedItems;
  /** Errors already reported here, so the SDK's global error handler can stay quiet about them. */
  readonly reported = new WeakSet<object>();
  private outageReportedAtProcessEnd = false;

  constructor(target: string, maxQueueSize?: number, now: () => number = Date.now, what: ExportedItems = SPANS) {
    this.target = target;
    this.maxQueueSize = maxQueueSize;
    this.now = now;
    this.what = what;
  }

  /** A batch leaves for the exporter; the ticket tells its outcome apart from those of exports still in flight. */
  exportStarted(): number {
    const ticket = this.nextTicket++;
    this.inFlight.add(ticket);
    return ticket;
  }

  succeeded(ticket = this.nextTicket++): void {
    this.inFlight.delete(ticket);
    if (!this.failing) {
      this.reportQueueDrops();
      return;
    }
    this.recoveredBy ??= ticket;
    this.reportRecoveryWhenSettled();
  }

  failed(spanCount: number, error: Error | undefined, ticket = this.nextTicket++): void {
    this.inFlight.delete(ticket);
    if (error !== undefined) this.reported.add(error);
    // Drops at the full queue while this export hung belong to the same outage.
    this.droppedWhileFailing += spanCount + this.queueDropsUnreported;
    this.queueDropsUnreported = 0;
    if (this.failing) {
      // Sent after the export that succeeded: the outage goes on.
      if (this.recoveredBy !== undefined && ticket > this.recoveredBy) this.recoveredBy = undefined;
      else this.reportRecoveryWhenSettled();
      return;
    }
    this.failing = true;
    if (this.what.reportOutageAtProcessEnd === true && !this.outageReportedAtProcessEnd) {
      this.outageReportedAtProcessEnd = true;
      reportAtProcessEnd(() => this.reportOngoingOutage());
    }
    const failingHere = failingByTarget.get(this.target) ?? new Set<ExportHealth>();
    failingByTarget.set(this.target, failingHere);
    const alreadySaid = [...failingHere].some((other) => other.what.signal !== this.what.signal);
    failingHere.add(this);
    if (alreadySaid) return;
    printLine(`exporting ${this.what.signal} to ${this.target} failed (${describeExportError(error)}); ${this.what.items} are dropped until it works again`);
  }

  /**
   * With several exports in flight, ones sent during the outage may still fail
   * after a later one succeeded. The recovery line waits for them, so their
   * spans are in its count and the outage is reported once, not as a flap.
   */
  private reportRecoveryWhenSettled(): void {
    if (this.recoveredBy === undefined) return;
    for (const ticket of this.inFlight) if (ticket < this.recoveredBy) return;
    this.failing = false;
    this.recoveredBy = undefined;
    failingByTarget.get(this.target)?.delete(this);
    printLine(`exporting ${this.what.signal} to ${this.target} works again; ${this.droppedWhileFailing} ${this.what.items} were dropped while it failed`);
    this.droppedWhileFailing = 0;
  }

  /**
   * The process ends during an outage: what it cost so far, on one line, so
   * no loss goes uncounted for want of a recovery. Said once per count.
   */
  reportOngoingOutage(): void {
    if (!this.failing || this.droppedWhileFailing === 0) return;
    printLine(`exporting ${this.what.signal} to ${this.target} still failed when the process ended; ${this.droppedWhileFailing} ${this.what.items} were dropped while it failed`);
    this.droppedWhileFailing = 0;
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

  /**
   * The batch processor flushed (SIGTERM, beforeExit, shutdown): drops at the
   * full queue not yet reported are reported now, whatever the interval, so
   * no count is lost with the process.
   */
  flushed(): void {
    if (!this.failing) this.reportQueueDrops(true);
  }

  private reportQueueDrops(force = false): void {
    if (this.queueDropsUnreported === 0) return;
    if (!force && this.now() - this.lastQueueFullLineAt < QUEUE_FULL_REPORT_INTERVAL_MS) return;
    this.lastQueueFullLineAt = this.now();
    const limit = this.maxQueueSize === undefined ? '' : ` (${this.what.queueVariable ?? 'OTEL_BSP_MAX_QUEUE_SIZE'}=${this.maxQueueSize})`;
    printLine(`the ${this.what.queue ?? 'span queue'}${limit} is full: exports to ${this.target} cannot keep up; ${this.queueDropsUnreported} ${this.what.items} dropped`);
    this.queueDropsUnreported = 0;
  }
}

/** The message only: gRPC errors carry the metadata, which may hold the user's API key. */
function describeExportError(error: Error | undefined): string {
  if (error === undefined) return 'no reason given';
  const message = error.message.split('\n')[0] ?? '';
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
