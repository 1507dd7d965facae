import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { GrpcRetryingExporter } from '../export/grpc-retry.ts';
import type { OtlpExporterOptions } from '../export/otlp-exporter.ts';

/**
 * The upstream OTLP log record exporter for the configured protocol, built as
 * createOtlpExporter builds the span one (same URL, compression, timeout,
 * headers and TLS handling; gRPC retries by our policy), from the
 * OTEL_EXPORTER_OTLP_LOGS_* settings. Requiring it loads its transport, so it
 * is called on the first export only.
 */
export function createOtlpLogExporter(otlp: OtlpConfig, options: OtlpExporterOptions = {}): LogRecordExporter {
  const common = { url: otlp.url, timeoutMillis: otlp.timeoutMs, compression: otlp.compression };
  switch (otlp.protocol) {
    case 'grpc': {
      const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-grpc') as typeof import('@opentelemetry/exporter-logs-otlp-grpc');
      const exporter = new OTLPLogExporter(common as ConstructorParameters<typeof OTLPLogExporter>[0]);
      // The retry policy only forwards export()/shutdown(): it works for any OTLP exporter.
      return options.retry === false ? exporter : (new GrpcRetryingExporter(exporter as unknown as SpanExporter, otlp.timeoutMs) as unknown as LogRecordExporter);
    }
    case 'http/protobuf': {
      const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto') as typeof import('@opentelemetry/exporter-logs-otlp-proto');
      return new OTLPLogExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPLogExporter>[0]);
    }
    case 'http/json': {
      const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http');
      return new OTLPLogExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPLogExporter>[0]);
    }
  }
}
