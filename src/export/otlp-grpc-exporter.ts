import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OtlpConfig } from '../config/otlp.ts';
import { GrpcUnaryClient } from './grpc-client.ts';
import { fieldsOf, type BatchSender } from './grpc-retry.ts';

/** One OTLP collector service: its Export method, how a batch becomes its request message, and what its partial success counts. */
export interface OtlpGrpcService<Batch> {
  readonly methodPath: string;
  serialize(batch: Batch): Uint8Array;
  /** The field name upstream prints in its partial-success warning: rejectedSpans, rejectedLogRecords, rejectedDataPoints. */
  readonly rejectedName: string;
}

const USER_AGENT = 'OTel-OTLP-Exporter-JavaScript @acme/otel-register';

/**
 * Spans, log records and metrics to an OTLP/gRPC collector over our own
 * client (grpc-client.ts), one Export call per batch, with the URL, TLS/mTLS
 * files, OTEL_EXPORTER_OTLP_*HEADERS, gzip and timeout of the signal's config.
 * The answer's partial success is logged as upstream logs it.
 */
export class OtlpGrpcExporter<Batch> implements BatchSender<Batch> {
  private readonly client: GrpcUnaryClient;
  private readonly service: OtlpGrpcService<Batch>;
  private readonly timeoutMs: number;

  constructor(otlp: OtlpConfig, service: OtlpGrpcService<Batch>) {
    this.client = new GrpcUnaryClient({
      url: otlp.url,
      metadata: otlp.headers,
      compression: otlp.compression,
      certificateFile: otlp.certificateFile,
      clientKeyFile: otlp.clientKeyFile,
      clientCertificateFile: otlp.clientCertificateFile,
      defaultRootsFile: process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH || undefined,
      userAgent: USER_AGENT,
    });
    this.service = service;
    this.timeoutMs = otlp.timeoutMs;
  }

  export(batch: Batch, resultCallback: (result: ExportResult) => void, timeoutMs = this.timeoutMs): void {
    let message: Uint8Array;
    try {
      message = this.service.serialize(batch);
    } catch (error) {
      return resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
    this.client.call(this.service.methodPath, message, timeoutMs, (error, answer) => {
      if (error !== undefined) return resultCallback({ code: ExportResultCode.FAILED, error });
      logPartialSuccess(answer, this.service.rejectedName);
      resultCallback({ code: ExportResultCode.SUCCESS });
    });
  }

  shutdown(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The proxy variable grpc-js would use (it reads these three, lower-case
 * only). Where one is set, callers keep upstream's grpc-js transport, which
 * goes through the proxy; ours does not speak HTTP CONNECT.
 */
export function grpcProxyVariable(env: NodeJS.ProcessEnv): string | undefined {
  return ['grpc_proxy', 'https_proxy', 'http_proxy'].find((name) => env[name] !== undefined && env[name] !== '');
}

/** Export*ServiceResponse { Export*PartialSuccess partial_success = 1 { int64 rejected_* = 1; string error_message = 2 } }. */
function logPartialSuccess(answer: Buffer | undefined, rejectedName: string): void {
  if (answer === undefined || answer.length === 0) return;
  try {
    const partial = fieldsOf(answer).find((field) => field.number === 1)?.bytes;
    if (partial === undefined) return;
    const fields = fieldsOf(partial);
    const rejected = fields.find((field) => field.number === 1)?.varint;
    const errorMessage = fields.find((field) => field.number === 2)?.bytes;
    if (rejected === undefined && errorMessage === undefined) return;
    diag.warn('Received Partial Success response:', JSON.stringify({ [rejectedName]: rejected, errorMessage: errorMessage === undefined ? undefined : Buffer.from(errorMessage).toString('utf8') }));
  } catch {
    // An answer we cannot read does not undo a delivered batch.
  }
}
