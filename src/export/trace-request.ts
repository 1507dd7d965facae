import { fieldKey, LENGTH_DELIMITED, varintSize } from './protobuf-writer.ts';
import type { EncodedSpan, ResourceEntry, ScopeEntry } from './span-encoder.ts';

const REQUEST_RESOURCE_SPANS = fieldKey(1, LENGTH_DELIMITED);
const RESOURCE_SPANS_SCOPE_SPANS = fieldKey(2, LENGTH_DELIMITED);

/** What an OTLP trace transport sends: an encoded ExportTraceServiceRequest, and how many spans it holds. */
export interface TraceRequest {
  readonly bytes: Uint8Array;
  readonly spanCount: number;
}

/**
 * The ExportTraceServiceRequest for spans encoded at their end:
 * ResourceSpans > ScopeSpans > Span, grouped as upstream groups them (by
 * resource, then by scope, each in order of first appearance; spans in queue
 * order), so the bytes equal upstream's for the same spans. Sizes are
 * computed first, then everything is copied once into a buffer of exactly
 * that size.
 */
export function assembleTraceRequest(spans: readonly EncodedSpan[]): Uint8Array {
  const groups = new Map<ResourceEntry, Map<ScopeEntry, EncodedSpan[]>>();
  for (const span of spans) {
    const scope = span.scope;
    let scopes = groups.get(scope.resource);
    if (scopes === undefined) {
      scopes = new Map();
      groups.set(scope.resource, scopes);
    }
    const members = scopes.get(scope);
    if (members === undefined) scopes.set(scope, [span]);
    else members.push(span);
  }

  const resourceFields = new Map<ResourceEntry, Uint8Array>();
  const scopeSpansSizes = new Map<ScopeEntry, number>();
  const resourceSpansSizes = new Map<ResourceEntry, number>();
  let total = 0;
  for (const [resource, scopes] of groups) {
    const resourceField = resource.resourceField();
    resourceFields.set(resource, resourceField);
    let resourceSpansSize = resourceField.length + resource.schemaUrlField.length;
    for (const [scope, members] of scopes) {
      let size = scope.scopeField.length + scope.schemaUrlField.length;
      for (const member of members) size += member.length;
      scopeSpansSizes.set(scope, size);
      resourceSpansSize += 1 + varintSize(size) + size;
    }
    resourceSpansSizes.set(resource, resourceSpansSize);
    total += 1 + varintSize(resourceSpansSize) + resourceSpansSize;
  }

  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, pos);
    pos += bytes.length;
  };
  const putVarint = (value: number) => {
    while (value > 0x7f) {
      out[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    out[pos++] = value;
  };
  for (const [resource, scopes] of groups) {
    out[pos++] = REQUEST_RESOURCE_SPANS;
    putVarint(resourceSpansSizes.get(resource)!);
    put(resourceFields.get(resource)!);
    for (const [scope, members] of scopes) {
      out[pos++] = RESOURCE_SPANS_SCOPE_SPANS;
      putVarint(scopeSpansSizes.get(scope)!);
      put(scope.scopeField);
      for (const member of members) pos += member.copyTo(out, pos);
      put(scope.schemaUrlField);
    }
    put(resource.schemaUrlField);
  }
  return out;
}
