import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Link } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanLimits, SpanProcessor } from '@opentelemetry/sdk-trace';
import { W3CTraceState } from '../../../src/propagators/trace-state.ts';
import { RandomTraceIdFlagTracerProvider } from '../../../src/random-trace-id-flag.ts';
import { SpanEncoder } from '../../../src/export/span-encoder.ts';
import { assembleTraceRequest } from '../../../src/export/trace-request.ts';
import { decodeTraceRequest } from '../../support/otlp-receiver.ts';

const HUGE_ASCII = 'a'.repeat(100_000);
const HUGE_NON_ASCII = 'Grüße, 世界 😀 '.repeat(8_000);

const EVERY_VALUE_TYPE: Attributes = {
  'string.ascii': 'GET /users/:id',
  'string.empty': '',
  'string.non_ascii': 'Grüße 日本語 😀',
  'string.lone_surrogate': 'a\ud800b',
  'string.huge': HUGE_ASCII,
  'string.huge_non_ascii': HUGE_NON_ASCII,
  'bool.true': true,
  'bool.false': false,
  'int.zero': 0,
  'int.small': 200,
  'int.negative': -5,
  'int.min_safe': Number.MIN_SAFE_INTEGER,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'int.above_32_bits': 2 ** 40 + 7,
  'int.huge_is_double': 1e20,
  'double': 3.14159,
  'double.negative': -0.5,
  'double.nan': Number.NaN,
  'double.infinity': Number.POSITIVE_INFINITY,
  'array.strings': ['a', 'Grüße', ''],
  'array.ints': [1, -2, 2 ** 33],
  'array.doubles': [1.5, 2.25],
  'array.bools': [true, false],
  'array.empty': [],
  'array.with_nulls': ['a', null, undefined, 'b'],
  'ключ.non_ascii_key': 'value',
};

interface Built {
  spans: ReadableSpan[];
}

/** Spans of every shape, ended by the real SDK (through our tracer provider) in a known order. */
function buildSpans(): Built {
  const spans: ReadableSpan[] = [];
  const collect: SpanProcessor = { onStart() {}, onEnd: (span) => void spans.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  const limited: SpanLimits = { attributeCountLimit: 3, eventCountLimit: 1, linkCountLimit: 1, attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1 };
  const resource = resourceFromAttributes({ 'service.name': 'encoder-test', 'host.name': 'hôte-1', 'process.pid': 42, 'tags': ['a', 'b'] }, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  const provider = new RandomTraceIdFlagTracerProvider({ resource, spanProcessors: [collect] });
  const otherResource = resourceFromAttributes({ 'service.name': 'limited' });
  const limitedProvider = new RandomTraceIdFlagTracerProvider({ resource: otherResource, spanLimits: limited, spanProcessors: [collect] });

  const http = provider.getTracer('@opentelemetry/instrumentation-http', '0.301.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.27.0' });
  const app = provider.getTracer('app');
  const unicode = provider.getTracer('bibliothèque', '1.0.0-βeta');

  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED | 0x02,
    isRemote: true,
    traceState: W3CTraceState.parse('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
  });
  const link: Link = {
    context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, isRemote: true, traceState: W3CTraceState.parse('vendor=v1') },
    attributes: { 'link.kind': 'follows', 'link.count': 2 },
    droppedAttributesCount: 1,
  };
  const localLink: Link = { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '1111111111111111', traceFlags: TraceFlags.SAMPLED } };

  const server = http.startSpan('GET /users/:id', { kind: SpanKind.SERVER, attributes: EVERY_VALUE_TYPE, links: [link, localLink], startTime: [1_700_000_000, 123_456_789] }, remoteParent);
  server.addEvent('request.received', { 'body.size': 1024, 'note': 'ünïcode' }, [1_700_000_000, 223_456_789]);
  server.addEvent('no attributes');
  server.recordException(new Error('boom: ошибка'));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'Internal error: ошибка' });
  const child = context.with(trace.setSpan(remoteParent, server), () => app.startSpan('child', { kind: SpanKind.CLIENT, startTime: 1_700_000_000_500.25 }));
  child.setStatus({ code: SpanStatusCode.OK });
  child.end(1_700_000_001_000.75);
  for (const kind of [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]) app.startSpan(`kind ${kind}`, { kind }).end();
  unicode.startSpan('名前 with spaces', { attributes: { big: 'x'.repeat(300) } }).end();
  app.startSpan('').end();
  server.end([1_700_000_002, 5]);

  const limitedTracer = limitedProvider.getTracer('limited');
  const dropping = limitedTracer.startSpan('drops', { attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 }, links: [link, localLink, link] });
  dropping.addEvent('e1', { x: 1, y: 2 });
  dropping.addEvent('e2');
  dropping.addEvent('e3');
  dropping.end();
  // Back to the first resource after another one: upstream groups by resource and scope in order of first appearance.
  http.startSpan('after other resource', { kind: SpanKind.SERVER }).end();

  // Values the SDK's own attribute sanitizer would refuse but the serializer writes: a scope with attributes, bytes, a map.
  const base = spans[spans.length - 1]!;
  const scopeWithAttributes = { name: 'scoped', version: '2', attributes: { 'scope.attr': 'x', 'scope.n': 3 }, droppedAttributesCount: 2 };
  spans.push({
    ...base,
    name: 'hand-made',
    spanContext: base.spanContext,
    instrumentationScope: scopeWithAttributes,
    attributes: { bytes: new Uint8Array([0, 1, 255]), map: { inner: 'v', n: 1, nested: { deep: true } } } as unknown as Attributes,
    events: base.events,
    links: base.links,
  } as ReadableSpan);
  return { spans };
}

/**
 * Spans whose attribute values and ids recur, as a server's do: what the
 * encoder writes from its caches (whole KeyValues of recurring short values,
 * the last trace id and parent id) must be what it would write afresh. Values
 * sit on each side of the cache's limits: string length 48, 32-bit integers,
 * 16 values a key, a key given up on after 256 misses; and the types a cached
 * value could be confused with ('200' and 200, 'true' and true, 0 and -0).
 */
function buildRecurringSpans(): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  const collect: SpanProcessor = { onStart() {}, onEnd: (span) => void spans.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new RandomTraceIdFlagTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'recurring' }), spanProcessors: [collect] });
  const tracer = provider.getTracer('recurring');
  const edgeValues: unknown[] = [
    'x'.repeat(47), 'x'.repeat(48), 'x'.repeat(49), 'é'.repeat(48), 'é'.repeat(49), 'a\ud800', '',
    2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 0, -0, 200, '200', 1.5, true, 'true', false,
  ];
  const longKey = `k.${'long'.repeat(30)}`;
  for (let i = 0; i < 700; i++) {
    const server = tracer.startSpan(i % 2 === 0 ? 'GET /users/:id' : 'POST /orders', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': i % 3 === 0 ? 'POST' : 'GET',
        'http.response.status_code': [200, 404, 500][i % 3]!,
        'url.path': `/users/${i}`, // a new value every time: given up on after 256 misses
        'edge': edgeValues[i % edgeValues.length] as string,
        'edge.reversed': edgeValues[(edgeValues.length - 1 - (i % edgeValues.length))] as string,
        'varied': `v${i % 20}`, // more values than a key keeps, recurring
        [longKey]: 'a value with a key long enough for a KeyValue over 96 bytes',
      },
    });
    const parent = trace.setSpan(ROOT_CONTEXT, server);
    // Children end first: the parent's id, then the trace id, come from the caches.
    const client = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'edge': edgeValues[(i * 7) % edgeValues.length] as string } }, parent);
    client.addEvent('retry', { 'http.request.method': 'GET', 'attempt': i % 2 });
    // Statuses without a message are written from constants.
    if (i % 7 === 0) client.setStatus({ code: SpanStatusCode.ERROR });
    if (i % 7 === 1) client.setStatus({ code: SpanStatusCode.OK });
    client.end();
    tracer.startSpan('render', {}, parent).end();
    if (i % 5 === 0) tracer.startSpan('unrelated', { links: [{ context: server.spanContext(), attributes: { 'http.request.method': 'GET' } }] }).end();
    server.end();
  }
  // Times: two in a second whose nanoseconds carry into the high 32 bits (from the last second's cache), a
  // second past 2^32 (not cached), the epoch, and back to a second seen before.
  let carrySecond = 1_700_000_000;
  while (Number((BigInt(carrySecond) * 1_000_000_000n) % 2n ** 32n) < 2 ** 32 - 5e8) carrySecond++;
  const times: [number, number][] = [[carrySecond, 1], [carrySecond, 999_999_999], [2 ** 32 + 5, 7], [0, 0], [0, 999_999_999], [carrySecond, 600_000_000]];
  for (const [i, time] of times.entries()) tracer.startSpan(`time ${i}`, { startTime: time }).end(times[(i + 1) % times.length]);
  return spans;
}

function ours(spans: readonly ReadableSpan[]): Uint8Array {
  const encoder = new SpanEncoder();
  return assembleTraceRequest(spans.map((span) => encoder.encode(span)));
}

function upstream(spans: readonly ReadableSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(spans as ReadableSpan[])!;
}

describe('span encoder (encode at end) against upstream ProtobufTraceSerializer', () => {
  it('decodes to the same ExportTraceServiceRequest, field by field, for spans of every shape', () => {
    const { spans } = buildSpans();
    const mine = decodeTraceRequest(ours(spans));
    const theirs = decodeTraceRequest(upstream(spans));
    assert.deepStrictEqual(mine, theirs);

    // And the comparison is not vacuous: what the spans hold is there.
    const resourceSpans = theirs.resource_spans as { scope_spans: { scope: { name: string }; spans: { name: string; attributes: { key: string; value: Record<string, unknown> }[]; flags: number; links: unknown[]; events: unknown[] }[] }[] }[];
    assert.equal(resourceSpans.length, 2, 'two resources, grouped');
    const all = resourceSpans.flatMap((r) => r.scope_spans.flatMap((s) => s.spans));
    assert.equal(all.length, spans.length);
    const server = all.find((span) => span.name === 'GET /users/:id')!;
    const huge = server.attributes.find((kv) => kv.key === 'string.huge_non_ascii')!;
    assert.equal(huge.value.string_value, HUGE_NON_ASCII);
    assert.equal(server.flags, 0x100 | 0x200 | 0x03, 'sampled, random trace id, has-is-remote, remote parent');
    assert.equal(server.links.length, 2);
    assert.equal(server.events.length, 3);
  });

  it('writes byte for byte what upstream writes', () => {
    const { spans } = buildSpans();
    assert.ok(Buffer.from(ours(spans)).equals(Buffer.from(upstream(spans))));
  });

  it('writes byte for byte what upstream writes for recurring values and ids (from the caches), on each side of their limits', () => {
    const spans = buildRecurringSpans();
    assert.ok(Buffer.from(ours(spans)).equals(Buffer.from(upstream(spans))));
    const decoded = decodeTraceRequest(ours(spans)) as { resource_spans: { scope_spans: { spans: { name: string; parent_span_id: Buffer; span_id: Buffer; attributes: { key: string; value: Record<string, unknown> }[] }[] }[] }[] };
    assert.deepStrictEqual(decoded, decodeTraceRequest(upstream(spans)));
    const written = decoded.resource_spans[0]!.scope_spans[0]!.spans;
    const edges = new Set(written.flatMap((span) => span.attributes.filter((kv) => kv.key === 'edge').map((kv) => JSON.stringify(kv.value))));
    assert.ok(edges.size >= 15, `the edge values are all there, each its own type: ${[...edges].join(' ')}`);
  });

  it('keeps every span whole when spans overflow one slab into the next, and one span fills several', () => {
    const { spans } = buildSpans();
    const many = Array.from({ length: 40 }, () => spans).flat();
    assert.ok(Buffer.from(ours(many)).equals(Buffer.from(upstream(many))));
  });

  it('reuses a slab only once every span in it was released: spans still queued keep their bytes', () => {
    // Small spans only (the huge one gets a buffer of its own): several slabs' worth.
    const spans = buildSpans().spans.filter((span) => span.name !== 'GET /users/:id');
    const many = Array.from({ length: 300 }, () => spans).flat();
    const encoder = new SpanEncoder();
    const exported = many.map((span) => encoder.encode(span));
    const stillQueued = many.map((span) => encoder.encode(span));
    assembleTraceRequest(exported);
    encoder.release(exported);
    encoder.release(exported);
    // Written into the released slabs, not over the queued spans.
    const next = many.map((span) => encoder.encode(span));
    const expected = Buffer.from(upstream(many));
    assert.ok(Buffer.from(assembleTraceRequest(stillQueued)).equals(expected), 'queued spans intact');
    assert.ok(Buffer.from(assembleTraceRequest(next)).equals(expected), 'spans in reused slabs whole');
    assert.ok(next.some((span) => exported.some((old) => old.slab === span.slab)), 'a released slab was reused');
  });

  it('holds nothing of the span: the encoded span is its scope and where its bytes are', () => {
    const { spans } = buildSpans();
    const encoded = new SpanEncoder().encode(spans[0]!);
    assert.deepEqual(Object.keys(encoded).sort(), ['length', 'released', 'scope', 'slab', 'start']);
    assert.ok(encoded.slab.buffer instanceof Uint8Array);
    assert.ok(!Object.values(encoded.scope).includes(spans[0] as unknown));
  });
});
