import { SpanKind, SpanStatusCode, TraceFlags, type Attributes } from '@opentelemetry/api';
import { writeSync } from 'node:fs';
import { hrTimeToMicroseconds } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Attributes worth a glance when reading a trace by eye; the rest stay in the collector. */
const KEY_ATTRIBUTES = [
  'http.request.method',
  'http.method',
  'http.route',
  'url.full',
  'url.path',
  'http.target',
  'http.response.status_code',
  'http.status_code',
  'server.address',
  'db.system.name',
  'db.system',
  'db.namespace',
  'db.name',
  'db.query.text',
  'db.statement',
  'db.operation.name',
  'rpc.method',
  'error.type',
];
const MAX_VALUE_LENGTH = 120;

/** Writes `text` whole, waiting at most `patienceMs` for a full pipe to drain; throws if it cannot. */
type Write = (text: string, patienceMs: number) => void;

/** Traces whose local root has not ended yet; past this many the oldest is printed as it is. */
const MAX_OPEN_TRACES = 1000;
/**
 * A local root's children can end just after it (Express ends its handler
 * spans on 'finish'), and one process can serve several hops of a trace: wait
 * this long after a local root ends so the whole tree prints at once.
 */
const SETTLE_MS = 100;
/** Spans started and not ended, remembered to mark their children; a span the app never ends must not pin memory. */
const MAX_TRACKED_OPEN_SPANS = 10_000;
/**
 * At exit there is nothing left to do but print, and a person is reading:
 * a full pipe gets this long to drain. While the app runs it gets none, so
 * a slow reader never blocks the app (it loses a tree instead).
 */
const EXIT_WRITE_PATIENCE_MS = 1_000;

/**
 * OTEL_TRACES_EXPORTER=console: a readable view for a person at a terminal.
 * Spans are held per trace until the trace's local root span ends, then the
 * trace is printed as a tree (children indented under their parent, in start
 * order), one line per span:
 *   <trace id> <span id> SERVER "GET /polls/:id" 12.4ms http.route=/polls/:id ...
 * When the process ends (shutdown at a signal, or printAll from the exit
 * flush), whatever is held is printed at once; a span whose parent has not
 * ended is a tree of its own, marked "(parent not ended)".
 */
export class ConsoleTreeProcessor implements SpanProcessor {
  private readonly write: Write;
  private readonly openTraces = new Map<string, ReadableSpan[]>();
  private readonly printTimers = new Map<string, NodeJS.Timeout>();
  private readonly openSpanIds = new Set<string>();

  constructor(write: Write = writeToStdout) {
    this.write = write;
  }

  onStart(span: Span): void {
    this.openSpanIds.add(span.spanContext().spanId);
    if (this.openSpanIds.size > MAX_TRACKED_OPEN_SPANS) this.openSpanIds.delete(this.openSpanIds.values().next().value!);
  }

  onEnd(span: ReadableSpan): void {
    this.openSpanIds.delete(span.spanContext().spanId);
    // Recorded but not sampled (kept for the HTTP duration metrics): not for export.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    const traceId = span.spanContext().traceId;
    const spans = this.openTraces.get(traceId) ?? [];
    spans.push(span);
    this.openTraces.set(traceId, spans);
    const isLocalRoot = span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
    if (isLocalRoot) {
      clearTimeout(this.printTimers.get(traceId));
      this.printTimers.set(traceId, setTimeout(() => this.print(traceId), SETTLE_MS).unref());
    } else if (this.openTraces.size > MAX_OPEN_TRACES) {
      const oldest = this.openTraces.keys().next().value;
      if (oldest !== undefined) this.print(oldest);
    }
  }

  /**
   * The process goes on (an app's own SIGTERM handler, beforeExit): print
   * the traces whose local root has ended; a trace still in progress waits
   * for its root, so it prints as one tree. printAll at exit takes the rest.
   */
  async forceFlush(): Promise<void> {
    for (const traceId of [...this.printTimers.keys()]) this.print(traceId, 0);
  }

  async shutdown(): Promise<void> {
    this.printAll();
  }

  /** The process ends now: every trace held, synchronously, settled or not. */
  printAll(): void {
    for (const traceId of [...this.openTraces.keys()]) this.print(traceId, EXIT_WRITE_PATIENCE_MS);
  }

  private print(traceId: string, patienceMs = 0): void {
    const spans = this.openTraces.get(traceId) ?? [];
    this.openTraces.delete(traceId);
    clearTimeout(this.printTimers.get(traceId));
    this.printTimers.delete(traceId);
    try {
      this.write(formatSpanTrees(spans, this.openSpanIds), patienceMs);
    } catch {
      // stdout closed (piped into head, say): the app must not notice.
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Synchronous write to fd 1: a closed pipe (`app | head`) then throws here,
 * where we catch it, instead of emitting 'error' on process.stdout, which
 * would crash an app that never wrote a byte itself. Once process.stdout
 * exists a pipe is non-blocking, so a write can be partial: the rest is
 * written as the pipe drains, for at most `patienceMs`.
 */
export function writeToStdout(text: string, patienceMs: number): void {
  const bytes = Buffer.from(text);
  const giveUpAt = Date.now() + patienceMs;
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(process.stdout.fd ?? 1, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() >= giveUpAt) throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** `openSpanIds`: spans started and not ended, to mark the children printed without them. */
export function formatSpanTrees(spans: readonly ReadableSpan[], openSpanIds: ReadonlySet<string> = new Set()): string {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  for (const span of spans) {
    const parentId = span.parentSpanContext?.spanId;
    if (parentId !== undefined && byId.has(parentId)) {
      const list = children.get(parentId) ?? [];
      list.push(span);
      children.set(parentId, list);
    } else {
      roots.push(span);
    }
  }
  const lines: string[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    lines.push(formatSpanLine(span, depth, depth === 0 && openSpanIds.has(span.parentSpanContext?.spanId ?? '')));
    const kids = children.get(span.spanContext().spanId) ?? [];
    kids.sort(byStartTime).forEach((child) => visit(child, depth + 1));
  };
  roots.sort(byStartTime).forEach((root) => visit(root, 0));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function byStartTime(a: ReadableSpan, b: ReadableSpan): number {
  return hrTimeToMicroseconds(a.startTime) - hrTimeToMicroseconds(b.startTime);
}

export function formatSpanLine(span: ReadableSpan, depth = 0, parentNotEnded = false): string {
  const context = span.spanContext();
  const parentId = span.parentSpanContext?.spanId;
  const durationMs = hrTimeToMicroseconds(span.duration) / 1000;
  const parts = [
    context.traceId,
    context.spanId,
    `${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}${SpanKind[span.kind] ?? 'INTERNAL'}`,
    JSON.stringify(span.name),
    `${durationMs.toFixed(1)}ms`,
  ];
  if (depth === 0 && parentId !== undefined) parts.push(`parent=${parentId}`);
  if (parentNotEnded) parts.push('(parent not ended)');
  if (span.status.code === SpanStatusCode.ERROR) parts.push(`ERROR${span.status.message ? `(${shorten(span.status.message)})` : ''}`);
  parts.push(...formatKeyAttributes(span.attributes));
  return parts.join(' ');
}

function formatKeyAttributes(attributes: Attributes): string[] {
  const shown: string[] = [];
  for (const key of KEY_ATTRIBUTES) {
    const value = attributes[key];
    if (value === undefined) continue;
    shown.push(`${key}=${shorten(Array.isArray(value) ? value.join(',') : String(value))}`);
  }
  return shown;
}

function shorten(text: string): string {
  const single = text.replace(/\s+/g, ' ');
  return single.length > MAX_VALUE_LENGTH ? `${single.slice(0, MAX_VALUE_LENGTH)}…` : single;
}
