import { diag } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config/index.ts';
import { otlpExitFlusher, toPlainSpan, type ExitFlusher, type ExitMetrics } from '../lifecycle/exit-flush.ts';
import { BatchingSpanProcessor } from './batching-span-processor.ts';
import { createEncodedSpanSender, EncodedSpanExporter, isEncodedProtocol } from './encoded-span-exporter.ts';
import { EncodingSpanProcessor } from './encoding-span-processor.ts';
import type { EncodedSpan } from './span-encoder.ts';
import { ExportHealth } from './export-health.ts';
import { ConsoleTreeProcessor } from './console-tree-processor.ts';
import { LazySpanExporter } from './lazy-exporter.ts';
import { createOtlpExporter } from './otlp-exporter.ts';
import { assembleTraceRequest } from './trace-request.ts';

/** Beyond OTEL_EXPORTER_OTLP_TIMEOUT, the time a transport gets to report its own timeout. */
const ANSWER_MARGIN_MS = 2_000;

export interface SpanPipeline {
  processors: SpanProcessor[];
  /** One per exporter, for the 'exit' listener: the console's first, as it only writes to fd 1. */
  exitFlushers: ExitFlusher[];
}

/** One processor per exporter named in OTEL_TRACES_EXPORTER; none for `none`. */
export function createSpanPipeline(config: Config, exitMetrics?: ExitMetrics): SpanPipeline {
  const health = new ExportHealth(`${new URL(config.otlp.url).host} (OTLP ${config.otlp.protocol})`, config.batch.maxQueueSize);
  installQuietErrorHandler(health);
  const exitFlushers: ExitFlusher[] = [];
  const processors = config.exporters.map((name) => {
    if (name === 'console') {
      const view = new ConsoleTreeProcessor();
      exitFlushers.unshift(() => view.printAll());
      return view;
    }
    const otlp = otlpSpanProcessor(config, health, exitMetrics);
    exitFlushers.push(otlp.exitFlusher);
    return otlp.processor;
  });
  // Metrics to OTLP without spans to OTLP: the exit flush carries the metrics alone.
  if (exitMetrics !== undefined && !config.exporters.includes('otlp')) exitFlushers.push(otlpExitFlusher(() => ({ count: 0 }), config.otlp, config.shutdownTimeoutMs, exitMetrics));
  return { processors, exitFlushers };
}

/**
 * OTLP protobuf (grpc, http/protobuf): each span is encoded when it ends
 * (span-encoder.ts) and the queue holds bytes; the exit flush sends them as
 * one request. http/json: upstream's exporter serializes spans at export.
 */
function otlpSpanProcessor(config: Config, health: ExportHealth, exitMetrics: ExitMetrics | undefined): { processor: SpanProcessor; exitFlusher: ExitFlusher } {
  const { otlp } = config;
  const label = `OTLP ${otlp.protocol}`;
  const answerWithinMs = otlp.timeoutMs + ANSWER_MARGIN_MS;
  if (isEncodedProtocol(otlp.protocol)) {
    const encodedOtlp = { ...otlp, protocol: otlp.protocol };
    const exporter = new LazySpanExporter<EncodedSpan, EncodedSpanExporter>(label, () => new EncodedSpanExporter(createEncodedSpanSender(encodedOtlp)), health, answerWithinMs);
    const processor = new EncodingSpanProcessor(exporter, config.batch, health);
    const takeEncoded = () => {
      const spans = processor.takeUnexported();
      return { count: spans.length, encoded: spans.length === 0 ? undefined : assembleTraceRequest(spans) };
    };
    return { processor, exitFlusher: otlpExitFlusher(takeEncoded, otlp, config.shutdownTimeoutMs, exitMetrics) };
  }
  const exporter = new LazySpanExporter(label, () => createOtlpExporter(otlp), health, answerWithinMs);
  const processor = new BatchingSpanProcessor(exporter, config.batch, health);
  const takePlain = () => {
    const spans = processor.takeUnexported();
    return { count: spans.length, plain: spans.map(toPlainSpan) };
  };
  return { processor, exitFlusher: otlpExitFlusher(takePlain, otlp, config.shutdownTimeoutMs, exitMetrics) };
}

/**
 * The batch processor hands every failed export to the global error handler,
 * which by default logs each one: a log line per batch while the collector is
 * down. Failures an ExportHealth (spans', metrics') already reported are dropped; anything else is
 * logged once per distinct message.
 */
const quietedBy: ExportHealth[] = [];

export function installQuietErrorHandler(health: ExportHealth): void {
  quietedBy.push(health);
  if (quietedBy.length > 1) return;
  const seen = new Set<string>();
  setGlobalErrorHandler((error) => {
    if (typeof error === 'object' && error !== null && quietedBy.some((one) => one.reported.has(error))) return;
    const message = error instanceof Error ? error.message : String(error);
    if (seen.has(message) || seen.size > 100) return;
    seen.add(message);
    diag.error(message);
  });
}
