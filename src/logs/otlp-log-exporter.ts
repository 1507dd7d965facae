import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpConfig } from '../config/otlp.ts';
import { GrpcRetryingExporter } from '../export/grpc-retry.ts';
import type { OtlpExporterOptions } from '../export/otlp-exporter.ts';
import { transformerOf } from '../export/require-beside.ts';
import { grpcProxyVariable, OtlpGrpcExporter } from '../export/otlp-grpc-exporter.ts';

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
      const exporter = grpcProxyVariable(process.env) === undefined ? ourGrpcLogExporter(otlp) : upstreamGrpcLogExporter(common);
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

/** Log records over our gRPC transport (see export/otlp-grpc-exporter.ts), encoded by upstream's serializer, as its exporter encodes them. */
function ourGrpcLogExporter(otlp: OtlpConfig): LogRecordExporter {
  const transformer = transformerOf('@opentelemetry/exporter-logs-otlp-grpc');
  return new OtlpGrpcExporter<ReadableLogRecord[]>(otlp, {
    methodPath: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    serialize: (records) => transformer.ProtobufLogsSerializer.serializeRequest(records)!,
    rejectedName: 'rejectedLogRecords',
  });
}

/** Upstream's exporter and grpc-js transport: used where a proxy variable is set. */
function upstreamGrpcLogExporter(common: { url: string; timeoutMillis: number; compression: string }): LogRecordExporter {
  const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-grpc') as typeof import('@opentelemetry/exporter-logs-otlp-grpc');
  return new OTLPLogExporter(common as ConstructorParameters<typeof OTLPLogExporter>[0]);
}
