import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Context, type SpanOptions } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TracerProvider, type IdGenerator, type ReadableSpan, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { RecordHttpSpansSampler } from '../../src/metrics/record-http-sampler.ts';
import { RandomTraceIdFlagTracerProvider } from '../../src/random-trace-id-flag.ts';

/** The same ids from two generators, so the two providers' spans can be compared whole; claimed random, so new traces get the flag. */
function countingIds(): IdGenerator & { traceIdsAreRandom: boolean } {
  let next = 1;
  return {
    traceIdsAreRandom: true,
    generateTraceId: () => (next++).toString(16).padStart(32, 'a'),
    generateSpanId: () => (next++).toString(16).padStart(16, 'b'),
  };
}

function recorder(): { processor: SpanProcessor; started: number[]; ended: ReadableSpan[] } {
  const started: number[] = [];
  const ended: ReadableSpan[] = [];
  const processor: SpanProcessor = {
    onStart: (span) => void started.push(span.spanContext().traceFlags),
    onEnd: (span) => void ended.push(span),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { processor, started, ended };
}

const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0x01, isRemote: true, traceState: undefined });
const remoteUnsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0x00, isRemote: true });
const ATTRIBUTES: Attributes = { 'http.route': '/users/:id', count: 3, ok: true, list: [1, 2, 3], skipped: undefined, '': 'empty key', long: 'abcdefghij', nested: { a: 1 } as never };

const cases: { name: string; sampler: () => Sampler; limits?: Record<string, number>; options: SpanOptions; context: Context }[] = [
  { name: 'a new trace, no attributes', sampler: () => new AlwaysOnSampler(), options: {}, context: ROOT_CONTEXT },
  { name: 'every kind of attribute value, and invalid ones', sampler: () => new AlwaysOnSampler(), options: { kind: SpanKind.SERVER, attributes: ATTRIBUTES }, context: ROOT_CONTEXT },
  { name: 'a remote parent', sampler: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }), options: { attributes: { a: 'b' } }, context: remote },
  { name: 'a count limit below the attributes', sampler: () => new AlwaysOnSampler(), limits: { attributeCountLimit: 2 }, options: { attributes: ATTRIBUTES }, context: ROOT_CONTEXT },
  { name: 'a value length limit', sampler: () => new AlwaysOnSampler(), limits: { attributeValueLengthLimit: 3 }, options: { attributes: ATTRIBUTES }, context: ROOT_CONTEXT },
  { name: 'a start time given', sampler: () => new AlwaysOnSampler(), options: { startTime: 1_700_000_000_123 }, context: ROOT_CONTEXT },
  { name: 'not sampled, not recorded', sampler: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }), options: { kind: SpanKind.CLIENT }, context: remoteUnsampled },
  {
    name: 'recorded but not sampled (an HTTP span with metrics on)',
    sampler: () => new RecordHttpSpansSampler(new AlwaysOffSampler()),
    options: { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } },
    context: ROOT_CONTEXT,
  },
];

/** What an exporter reads of a span, times left out (both clocks run). */
function exported(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    links: span.links,
    events: span.events,
    status: span.status,
    scope: span.instrumentationScope,
    resource: span.resource.attributes,
  };
}

describe("the lean startSpan makes the SDK's spans", () => {
  for (const { name, sampler, limits, options, context } of cases) {
    test(name, () => {
      const lean = recorder();
      const sdk = recorder();
      const leanProvider = new RandomTraceIdFlagTracerProvider({ sampler: sampler(), idGenerator: countingIds(), spanLimits: limits, spanProcessors: [lean.processor] });
      const sdkProvider = new TracerProvider({ sampler: sampler(), idGenerator: countingIds(), spanLimits: limits, spanProcessors: [sdk.processor] });
      const leanTracer = leanProvider.getTracer('scope', '1.0');
      const sdkTracer = sdkProvider.getTracer('scope', '1.0');
      // The first span of a process goes through the SDK (the lean path takes its span class from it): twice each.
      const spans = [0, 1].map(() => [leanTracer.startSpan('span', options, context), sdkTracer.startSpan('span', options, context)] as const);
      for (const [leanSpan, sdkSpan] of spans) {
        assert.equal(leanSpan.isRecording(), sdkSpan.isRecording());
        const [a, b] = [leanSpan.spanContext(), sdkSpan.spanContext()];
        assert.deepEqual({ ...a, traceFlags: a.traceFlags & 0x01 }, b, 'the same ids, sampled bit and trace state');
        leanSpan.end();
        sdkSpan.end();
      }
      assert.equal(lean.ended.length, sdk.ended.length);
      lean.ended.forEach((span, i) => {
        const a = exported(span);
        const b = exported(sdk.ended[i]!);
        assert.deepEqual({ ...a, spanContext: { ...a.spanContext, traceFlags: a.spanContext.traceFlags & 0x01 } }, b);
      });
      // The lean path builds the random-trace-id flag with the span context: processors see it from onStart.
      if (lean.started.length === 2 && context === ROOT_CONTEXT) assert.equal(lean.started[1]! & 0x02, 0x02, 'the second span took the lean path');
    });
  }
});
