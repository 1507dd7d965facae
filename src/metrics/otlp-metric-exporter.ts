import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../config/otlp.ts';
import { transformerOf } from '../export/require-beside.ts';
import { grpcProxyVariable, OtlpGrpcExporter } from '../export/otlp-grpc-exporter.ts';

/**
 * Builds upstream's OTLP metric exporter for the configured protocol, with
 * our defaults (gzip). Called at the first export only (LazyMetricExporter).
 * gRPC goes over our transport, as spans do (upstream's where a proxy
 * variable is set, see otlp-grpc-exporter.ts); temporality and aggregation
 * are answered by LazyMetricExporter, so only export() is asked of it.
 */
export function createOtlpMetricExporter(otlp: OtlpConfig): PushMetricExporter {
  const common = { url: otlp.url, timeoutMillis: otlp.timeoutMs, compression: otlp.compression };
  switch (otlp.protocol) {
    case 'grpc': {
      if (grpcProxyVariable(process.env) === undefined) return ourGrpcMetricExporter(otlp);
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

/** Metrics over our gRPC transport, encoded by upstream's serializer, as its exporter encodes them. */
function ourGrpcMetricExporter(otlp: OtlpConfig): PushMetricExporter {
  const transformer = transformerOf('@opentelemetry/exporter-metrics-otlp-grpc');
  return new OtlpGrpcExporter<ResourceMetrics>(otlp, {
    methodPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    serialize: (metrics) => transformer.ProtobufMetricsSerializer.serializeRequest(metrics)!,
    rejectedName: 'rejectedDataPoints',
  }) as unknown as PushMetricExporter;
}
