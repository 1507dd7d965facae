import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { GrpcRetryingExporter } from './grpc-retry.ts';

export interface OtlpExporterOptions {
  /** gRPC only (upstream's HTTP exporters retry by themselves): false for one-shot exports at exit and in doctor. */
  readonly retry?: boolean;
}

/**
 * Builds the upstream OTLP exporter for the configured protocol. Called on the
 * first export only (see LazySpanExporter): requiring an exporter loads its
 * transport and protobuf encoders.
 *
 * TLS files (OTEL_EXPORTER_OTLP_CERTIFICATE, CLIENT_KEY, CLIENT_CERTIFICATE,
 * INSECURE) and gRPC metadata from OTEL_EXPORTER_OTLP_HEADERS are read by the
 * upstream gRPC exporter itself; we validated them in config and pass what it
 * does not read: the URL, compression (gzip by default, upstream's is none)
 * and timeout.
 */
export function createOtlpExporter(otlp: OtlpConfig, options: OtlpExporterOptions = {}): SpanExporter {
  const common = { url: otlp.url, timeoutMillis: otlp.timeoutMs, compression: otlp.compression };
  switch (otlp.protocol) {
    case 'grpc': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
      const exporter = new OTLPTraceExporter(common as ConstructorParameters<typeof OTLPTraceExporter>[0]) as unknown as SpanExporter;
      return options.retry === false ? exporter : new GrpcRetryingExporter(exporter, otlp.timeoutMs);
    }
    case 'http/protobuf': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPTraceExporter>[0]) as unknown as SpanExporter;
    }
    case 'http/json': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ ...common, headers: { ...otlp.headers } } as ConstructorParameters<typeof OTLPTraceExporter>[0]) as unknown as SpanExporter;
    }
  }
}
