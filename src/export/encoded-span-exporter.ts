import type { ExportResult } from '@opentelemetry/core';
import type { OtlpConfig } from '../config/otlp.ts';
import { GrpcRetryingExporter, type BatchSender } from './grpc-retry.ts';
import { grpcProxyVariable, OtlpGrpcExporter, type OtlpGrpcService } from './otlp-grpc-exporter.ts';
import { requireBeside } from './require-beside.ts';
import type { ItemExporter } from './lazy-exporter.ts';
import type { EncodedSpan } from './span-encoder.ts';
import { assembleTraceRequest, type TraceRequest } from './trace-request.ts';

/** The protocols whose payload is the protobuf our encoder writes (http/json stays on upstream's exporter). */
export type EncodedProtocol = 'grpc' | 'http/protobuf';

export function isEncodedProtocol(protocol: OtlpConfig['protocol']): protocol is EncodedProtocol {
  return protocol === 'grpc' || protocol === 'http/protobuf';
}

/**
 * Exports spans encoded at their end: assembles their request once (a gRPC
 * retry resends the same bytes) and hands it to upstream's own transport.
 */
export class EncodedSpanExporter implements ItemExporter<EncodedSpan> {
  private readonly sender: BatchSender<TraceRequest>;

  constructor(sender: BatchSender<TraceRequest>) {
    this.sender = sender;
  }

  export(spans: EncodedSpan[], resultCallback: (result: ExportResult) => void): void {
    this.sender.export({ bytes: assembleTraceRequest(spans), spanCount: spans.length }, resultCallback);
  }

  shutdown(): Promise<void> {
    return this.sender.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.sender.forceFlush?.();
  }
}

export interface EncodedSenderOptions {
  /** gRPC only (upstream's HTTP transport retries by itself): false for one-shot exports at exit. */
  readonly retry?: boolean;
}

const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const TRACE_SERVICE: OtlpGrpcService<TraceRequest> = { methodPath: TRACE_EXPORT_PATH, serialize: (request) => request.bytes, rejectedName: 'rejectedSpans' };

/**
 * The transport for an already encoded ExportTraceServiceRequest.
 *
 * gRPC: our own client on node:http2 (grpc-client.ts), with the URL, TLS/mTLS
 * files, OTEL_EXPORTER_OTLP_*HEADERS, gzip and timeout of the config, unless
 * a proxy variable grpc-js honours is set: then upstream's transport, which
 * goes through the proxy.
 *
 * http/protobuf: the very delegate upstream's OTLPTraceExporter builds
 * (createOtlpHttpExportDelegate, with options converted by the same
 * function, so headers, gzip, timeouts, retries and partial-success logging
 * are unchanged), given a serializer that passes our bytes through.
 */
export function createEncodedSpanSender(otlp: OtlpConfig & { protocol: EncodedProtocol }, options: EncodedSenderOptions = {}): BatchSender<TraceRequest> {
  const common = { url: otlp.url, timeoutMillis: otlp.timeoutMs, compression: otlp.compression };
  if (otlp.protocol === 'grpc') {
    const sender = grpcProxyVariable(process.env) === undefined ? new OtlpGrpcExporter(otlp, TRACE_SERVICE) : upstreamGrpcSender(common);
    return options.retry === false ? sender : new GrpcRetryingExporter(sender, otlp.timeoutMs);
  }
  const exporterRequire = requireBeside('@opentelemetry/exporter-trace-otlp-proto');
  const http = exporterRequire('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/node-http');
  const config = http.convertLegacyHttpOptions({ ...common, headers: { ...otlp.headers } } as Parameters<typeof http.convertLegacyHttpOptions>[0], 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return http.createOtlpHttpExportDelegate(config, passThroughSerializer(exporterRequire), 'otlp_http_span_exporter', SPAN_COUNT, undefined);
}

/** Upstream's gRPC transport (grpc-js) for our bytes: used where a proxy variable is set. */
function upstreamGrpcSender(common: { url: string; timeoutMillis: number; compression: string }): BatchSender<TraceRequest> {
  const exporterRequire = requireBeside('@opentelemetry/exporter-trace-otlp-grpc');
  const grpc = exporterRequire('@opentelemetry/otlp-grpc-exporter-base') as typeof import('@opentelemetry/otlp-grpc-exporter-base');
  return grpc.createOtlpGrpcExportDelegate(
    grpc.convertLegacyOtlpGrpcOptions(common as Parameters<typeof grpc.convertLegacyOtlpGrpcOptions>[0], 'TRACES'),
    passThroughSerializer(exporterRequire),
    'otlp_grpc_span_exporter',
    SPAN_COUNT,
    undefined,
    'TraceExportService',
    TRACE_EXPORT_PATH,
  );
}

/** For upstream's exporter self-metrics (off unless a meter provider is given; we give none). */
const SPAN_COUNT = { name: 'span' as const, countItems: (request: TraceRequest) => request.spanCount };

function passThroughSerializer(exporterRequire: NodeJS.Require) {
  const { ProtobufTraceSerializer } = exporterRequire('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  return {
    serializeRequest: (request: TraceRequest) => request.bytes,
    // The collector's answer (partial success) is read as upstream reads it.
    deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}
