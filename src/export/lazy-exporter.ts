import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { printLine } from '../logging.ts';
import type { ExportHealth } from './export-health.ts';

/**
 * Defers building the real exporter (and loading its transport: grpc-js,
 * protobuf encoders) to the first export, so a process that never ends a span
 * never pays for it.
 */
export class LazySpanExporter implements SpanExporter {
  private exporter: SpanExporter | undefined;
  private failedToBuild = false;
  private readonly build: () => SpanExporter;
  private readonly label: string;
  private readonly health: ExportHealth;

  constructor(label: string, build: () => SpanExporter, health: ExportHealth) {
    this.label = label;
    this.build = build;
    this.health = health;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.health.exportStarted(spans);
    const exporter = this.get();
    if (exporter === undefined) {
      const error = new Error(`${this.label} exporter unavailable`);
      this.health.failed(spans.length, error);
      resultCallback({ code: ExportResultCode.FAILED, error });
      return;
    }
    exporter.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.health.succeeded();
      else this.health.failed(spans.length, result.error);
      resultCallback(result);
    });
  }

  async shutdown(): Promise<void> {
    await this.exporter?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.exporter?.forceFlush?.();
  }

  private get(): SpanExporter | undefined {
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
