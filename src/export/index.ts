import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config/index.ts';
import { ConsoleTreeProcessor } from './console-tree-processor.ts';
import { LazySpanExporter } from './lazy-exporter.ts';
import { createOtlpExporter } from './otlp-exporter.ts';

/** One processor per exporter named in OTEL_TRACES_EXPORTER; none for `none`. */
export function createSpanProcessors(config: Config): SpanProcessor[] {
  return config.exporters.map((name) => {
    if (name === 'console') return new ConsoleTreeProcessor();
    const exporter = new LazySpanExporter(`OTLP ${config.otlp.protocol}`, () => createOtlpExporter(config.otlp));
    return new BatchSpanProcessor({
      exporter,
      maxQueueSize: config.batch.maxQueueSize,
      maxExportBatchSize: config.batch.maxExportBatchSize,
      scheduledDelayMillis: config.batch.scheduledDelayMs,
      exportTimeoutMillis: config.batch.exportTimeoutMs,
    });
  });
}
