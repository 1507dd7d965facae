import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../config/otlp.ts';

/**
 * Builds upstream's OTLP metric exporter for the configured protocol, with
 * our defaults (gzip). Called at the first export only (LazyMetricExporter).
 * As for spans, the gRPC exporter reads the TLS files and headers itself
 * from the OTEL_EXPORTER_OTLP_(METRICS_)* variables we validated.
 */
export function createOtlpMetricExporter(otlp: OtlpConfig): PushMetricExporter {
  const common = { url: otlp.url, timeoutMillis: otlp.timeoutMs, compression: otlp.compression };
  switch (otlp.protocol) {
    case 'grpc': {
      const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-grpc') as typeof import('@opentelemetry/exporter-metrics-otlp-grpc');
      return new OTLPMetricExporter(common as ConstructorParameters<typeof OTLPMetricExporter>[0]) as unknown as PushMetricExporter;
    }
    case 'http/protobuf': {
      const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPMetricExporter>[0]) as unknown as PushMetricExporter;
    }
    case 'http/json': {
      const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPMetricExporter>[0]) as unknown as PushMetricExporter;
    }
  }
}
