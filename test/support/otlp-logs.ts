/**
 * The logs half of the test receiver (otlp-receiver.ts routes to it):
 * ExportLogsServiceRequest decoded from protobuf (gRPC, OTLP/HTTP) or
 * OTLP/JSON into flat records tests can assert on.
 */
import protobuf from 'protobufjs';
import { anyValue, hex, keyValues, toBigInt } from './otlp-receiver.ts';

// Field numbers from opentelemetry-proto: logs/v1/logs.proto, collector/logs/v1/logs_service.proto.
const LOGS_PROTO = `
syntax = "proto3";
package otlplogs;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
`;
const ExportLogsRequest = protobuf.parse(LOGS_PROTO, { keepCase: true }).root.lookupType('otlplogs.ExportLogsServiceRequest');

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
