/**
 * The logs half of the test receiver (otlp-receiver.ts routes to it):
 * ExportLogsServiceRequest decoded from protobuf (gRPC, OTLP/HTTP) or
 * OTLP/JSON into flat records tests can assert on.
 */
import { ExportLogsRequest } from './otlp-proto.ts';
import { anyValue, hex, keyValues, toBigInt } from './otlp-receiver.ts';

export const LOGS_GRPC_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
export const LOGS_HTTP_PATH = '/v1/logs';

type Json = Record<string, unknown>;

export interface ReceivedLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: unknown;
  attributes: Record<string, unknown>;
  droppedAttributesCount: number;
  /** '' when the record was logged outside any span. */
  traceId: string;
  spanId: string;
  flags: number;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
}

/** Works for both the protobuf object (snake_case, keepCase) and OTLP/JSON (camelCase). */
export function flattenLogs(request: Json): ReceivedLogRecord[] {
  const records: ReceivedLogRecord[] = [];
  for (const rl of ((request.resource_logs ?? request.resourceLogs) as Json[] | undefined) ?? []) {
    const resource = keyValues(((rl.resource as Json | undefined)?.attributes as Json[] | undefined) ?? []);
    for (const sl of ((rl.scope_logs ?? rl.scopeLogs) as Json[] | undefined) ?? []) {
      const scopeJson = (sl.scope as Json | undefined) ?? {};
      const scope = { name: String(scopeJson.name ?? ''), version: String(scopeJson.version ?? '') };
      for (const r of ((sl.log_records ?? sl.logRecords) as Json[] | undefined) ?? []) {
        records.push({
          timeUnixNano: toBigInt(r.time_unix_nano ?? r.timeUnixNano),
          observedTimeUnixNano: toBigInt(r.observed_time_unix_nano ?? r.observedTimeUnixNano),
          severityNumber: Number(r.severity_number ?? r.severityNumber ?? 0),
          severityText: String(r.severity_text ?? r.severityText ?? ''),
          body: anyValue(r.body as Json | undefined),
          attributes: keyValues(r.attributes as Json[] | undefined),
          droppedAttributesCount: Number(r.dropped_attributes_count ?? r.droppedAttributesCount ?? 0),
          traceId: hex(r.trace_id ?? r.traceId),
          spanId: hex(r.span_id ?? r.spanId),
          flags: Number(r.flags ?? 0),
          resource,
          scope,
        });
      }
    }
  }
  return records;
}

export function decodeLogsProtobuf(body: Buffer): ReceivedLogRecord[] {
  return flattenLogs(ExportLogsRequest.toObject(ExportLogsRequest.decode(body), { longs: String, bytes: Buffer as unknown as StringConstructor, defaults: false }) as Json);
}
