import { diag } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config/index.ts';
import { otlpExitFlusher, type ExitFlusher } from '../lifecycle/exit-flush.ts';
import { BatchingSpanProcessor } from './batching-span-processor.ts';
import { ExportHealth } from './export-health.ts';
import { ConsoleTreeProcessor } from './console-tree-processor.ts';
import { LazySpanExporter } from './lazy-exporter.ts';
import { createOtlpExporter } from './otlp-exporter.ts';

/** Beyond OTEL_EXPORTER_OTLP_TIMEOUT, the time a transport gets to report its own timeout. */
const ANSWER_MARGIN_MS = 2_000;

export interface SpanPipeline {
  processors: SpanProcessor[];
  /** One per exporter, for the 'exit' listener: the console's first, as it only writes to fd 1. */
  exitFlushers: ExitFlusher[];
}

/** One processor per exporter named in OTEL_TRACES_EXPORTER; none for `none`. */
export function createSpanPipeline(config: Config): SpanPipeline {
  const health = new ExportHealth(`${new URL(config.otlp.url).host} (OTLP ${config.otlp.protocol})`, config.batch.maxQueueSize);
  installQuietErrorHandler(health);
  const exitFlushers: ExitFlusher[] = [];
  const processors = config.exporters.map((name) => {
    if (name === 'console') {
      const view = new ConsoleTreeProcessor();
      exitFlushers.unshift(() => view.printAll());
      return view;
    }
    const exporter = new LazySpanExporter(`OTLP ${config.otlp.protocol}`, () => createOtlpExporter(config.otlp), health, config.otlp.timeoutMs + ANSWER_MARGIN_MS);
    const otlp = new BatchingSpanProcessor(exporter, config.batch, health);
    exitFlushers.push(otlpExitFlusher(() => otlp.takeUnexported(), config.otlp, config.shutdownTimeoutMs));
    return otlp;
  });
  return { processors, exitFlushers };
}

/**
 * The batch processor hands every failed export to the global error handler,
 * which by default logs each one: a log line per batch while the collector is
 * down. Failures ExportHealth already reported are dropped; anything else is
 * logged once per distinct message.
 */
function installQuietErrorHandler(health: ExportHealth): void {
  const seen = new Set<string>();
  setGlobalErrorHandler((error) => {
    if (typeof error === 'object' && error !== null && health.reported.has(error)) return;
    const message = error instanceof Error ? error.message : String(error);
    if (seen.has(message) || seen.size > 100) return;
    seen.add(message);
    diag.error(message);
  });
}
