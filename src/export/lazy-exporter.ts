import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { printLine } from '../logging.ts';
import type { ExportHealth } from './export-health.ts';

/** The exporter surface shared by spans' and log records' exporters. */
export interface ItemExporter<Item> {
  export(items: Item[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * Defers building the real exporter (and loading its transport: grpc-js,
 * protobuf encoders) to the first export, so a process that never ends a span
 * never pays for it.
 */
export class LazySpanExporter<Item = ReadableSpan, Exporter extends ItemExporter<Item> = SpanExporter & ItemExporter<Item>> implements ItemExporter<Item> {
  private exporter: Exporter | undefined;
  private failedToBuild = false;
  private readonly build: () => Exporter;
  private readonly label: string;
  private readonly health: ExportHealth;

  private readonly answerWithinMs: number;

  /** answerWithinMs: an export not answered by then is counted as failed (OTEL_EXPORTER_OTLP_TIMEOUT plus a margin). */
  constructor(label: string, build: () => Exporter, health: ExportHealth, answerWithinMs: number) {
    this.label = label;
    this.build = build;
    this.health = health;
    this.answerWithinMs = answerWithinMs;
  }

  export(spans: Item[], resultCallback: (result: ExportResult) => void): void {
    const exporter = this.get();
    const send = exporter === undefined ? undefined : (answer: (result: ExportResult) => void) => exporter.export(spans, answer);
    watchedExport(this.health, spans.length, this.answerWithinMs, send, `${this.label} exporter unavailable`, resultCallback);
  }

  async shutdown(): Promise<void> {
    await this.exporter?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.exporter?.forceFlush?.();
  }

  private get(): Exporter | undefined {
    if (this.exporter !== undefined || this.failedToBuild) return this.exporter;
    try {
      this.exporter = this.build();
    } catch (error) {
      this.failedToBuild = true;
      printLine(`the ${this.label} exporter could not be created (${(error as Error).message}); spans are dropped`);
    }
    return this.exporter;
  }
}

/**
 * One export under the rules every signal shares: counted in ExportHealth
 * (`count` items), failed when the transport does not answer within
 * `answerWithinMs` (a transport that never calls back must not hold items
 * uncounted, or a recovery line, forever), never throwing. `send` is
 * undefined when the exporter could not be built.
 */
export function watchedExport(
  health: ExportHealth,
  count: number,
  answerWithinMs: number,
  send: ((answer: (result: ExportResult) => void) => void) | undefined,
  unavailable: string,
  done: (result: ExportResult) => void,
): void {
  const ticket = health.exportStarted();
  if (send === undefined) {
    const error = new Error(unavailable);
    health.failed(count, error, ticket);
    done({ code: ExportResultCode.FAILED, error });
    return;
  }
  let answered = false;
  const answer = (result: ExportResult) => {
    if (answered) return;
    answered = true;
    clearTimeout(watchdog);
    if (result.code === ExportResultCode.SUCCESS) health.succeeded(ticket);
    else health.failed(count, result.error, ticket);
    done(result);
  };
  const watchdog = setTimeout(() => answer({ code: ExportResultCode.FAILED, error: new Error(`no answer within ${answerWithinMs} ms`) }), answerWithinMs);
  watchdog.unref();
  try {
    send(answer);
  } catch (error) {
    answer({ code: ExportResultCode.FAILED, error: error as Error });
  }
}
