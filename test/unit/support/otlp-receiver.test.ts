import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { countSpans, decodeProtobuf, type OtlpReceiver } from '../../support/otlp-receiver.ts';

function spansOf(service: string, kinds: SpanKind[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'h'.repeat(300) }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('scope-a');
  for (const kind of kinds) {
    const span = tracer.startSpan(`op-${kind}`, { kind, attributes: { 'http.route': '/x', big: 'y'.repeat(200), n: 2 ** 40, ok: true, list: ['a', 'b'] } });
    span.addEvent('event', { at: 1 });
    span.end();
  }
  tracer.startSpan('unset kind').end();
  provider.getTracer('scope-b').startSpan('other scope', { kind: SpanKind.SERVER }).end();
  return exporter.getFinishedSpans();
}

describe('the bench receiver counts spans without decoding them whole', () => {
  it('counts per service.name and kind equal those of the full decode', () => {
    const spans = [...spansOf('alpha', [SpanKind.SERVER, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]), ...spansOf('beta', [SpanKind.SERVER])];
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const counts: OtlpReceiver['counts'] = new Map();
    assert.equal(spans.length, 11);
    assert.equal(countSpans(body, counts), spans.length);
    const expected: OtlpReceiver['counts'] = new Map();
    for (const span of decodeProtobuf(body)) {
      const service = String(span.resource['service.name']);
      const byKind = expected.get(service) ?? {};
      expected.set(service, byKind);
      byKind[span.kind] = (byKind[span.kind] ?? 0) + 1;
    }
    assert.deepEqual(counts, expected);
    assert.deepEqual(counts.get('alpha'), { SERVER: 3, CLIENT: 1, INTERNAL: 2, PRODUCER: 1, CONSUMER: 1 });
  });
});
