import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, RandomIdGenerator, type ReadableSpan, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { PooledRandomIdGenerator } from '../../src/pooled-random-id-generator.ts';
import { RandomTraceIdFlagTracerProvider } from '../../src/random-trace-id-flag.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

const SAMPLERS: Record<string, () => Sampler> = {
  always_on: () => new AlwaysOnSampler(),
  always_off: () => new AlwaysOffSampler(),
  parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
};

function remoteParent(traceFlags: number): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags, isRemote: true });
}

function capture(): { processor: SpanProcessor; ended: ReadableSpan[] } {
  const ended: ReadableSpan[] = [];
  const processor: SpanProcessor = { onStart() {}, onEnd: (span) => void ended.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  return { processor, ended };
}

describe('the random-trace-id flag of new spans', () => {
  // parent: the incoming flags, or undefined for a new trace. expected: the span's flags (sampled bit from the sampler).
  const cases: { name: string; sampler: string; parent: number | undefined; root?: boolean; expected: number }[] = [
    { name: 'a new sampled trace is random', sampler: 'parentbased_always_on', parent: undefined, expected: 0x03 },
    { name: 'a new trace that is not sampled is still random', sampler: 'parentbased_always_off', parent: undefined, expected: 0x02 },
    { name: 'incoming 03 stays 03', sampler: 'parentbased_always_on', parent: 0x03, expected: 0x03 },
    { name: 'incoming 01 stays 01: the flag is not invented for a trace id we did not make', sampler: 'parentbased_always_on', parent: 0x01, expected: 0x01 },
    { name: 'incoming 02 stays 02', sampler: 'parentbased_always_on', parent: 0x02, expected: 0x02 },
    { name: 'incoming 00 stays 00', sampler: 'parentbased_always_on', parent: 0x00, expected: 0x00 },
    { name: 'incoming 02 sampled by always_on is 03', sampler: 'always_on', parent: 0x02, expected: 0x03 },
    { name: 'incoming 03 dropped by always_off is 02', sampler: 'always_off', parent: 0x03, expected: 0x02 },
    { name: 'incoming 01 dropped by always_off is 00', sampler: 'always_off', parent: 0x01, expected: 0x00 },
    { name: 'incoming 00 sampled by always_on is 01', sampler: 'always_on', parent: 0x00, expected: 0x01 },
    { name: 'root: true starts a new, random trace whatever the parent says', sampler: 'always_on', parent: 0x01, root: true, expected: 0x03 },
  ];
  for (const { name, sampler, parent, root, expected } of cases) {
    test(`${name} (${sampler})`, () => {
      const { processor, ended } = capture();
      const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS[sampler]!(), spanProcessors: [processor] });
      const span = provider.getTracer('t').startSpan('s', { root }, parent === undefined ? ROOT_CONTEXT : remoteParent(parent));
      const spanContext = span.spanContext();
      assert.equal(spanContext.traceFlags, expected);
      if (parent !== undefined && root !== true) assert.equal(spanContext.traceId, TRACE_ID);
      else assert.notEqual(spanContext.traceId, TRACE_ID);
      span.end();
      if (expected & 0x01) assert.equal(ended[0]?.spanContext().traceFlags, expected, 'the exported span carries the same flags');
      else assert.equal(ended.length, 0, 'a span that is not sampled is not exported');
    });
  }

  test('local children inherit the flag: a trace stays 03 (or 01) all the way down', () => {
    const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['parentbased_always_on']!() });
    const tracer = provider.getTracer('t');
    for (const incoming of [0x00, 0x01, 0x02, 0x03]) {
      const server = tracer.startSpan('server', {}, remoteParent(incoming));
      const internal = tracer.startSpan('internal', {}, trace.setSpan(ROOT_CONTEXT, server));
      const client = tracer.startSpan('client', {}, trace.setSpan(ROOT_CONTEXT, internal));
      assert.deepEqual([server, internal, client].map((span) => span.spanContext().traceFlags), [incoming, incoming, incoming], `incoming ${incoming}`);
    }
  });

  test('startActiveSpan goes through the same path, and startSpan reads the active context', (t) => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    t.after(() => context.disable());
    const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['parentbased_always_on']!() });
    const tracer = provider.getTracer('t');
    const flags = tracer.startActiveSpan('outer', {}, remoteParent(0x02), (outer) => {
      outer.end();
      return [outer.spanContext().traceFlags, tracer.startSpan('inner').spanContext().traceFlags];
    });
    assert.deepEqual(flags, [0x02, 0x02]);
    assert.equal(tracer.startActiveSpan('fresh', (span) => span.spanContext().traceFlags), 0x03);
  });

  test('with an IdGenerator of the user, new trace ids are not claimed random', () => {
    const idGenerator = { generateTraceId: () => TRACE_ID.replace(/^./, 'f'), generateSpanId: () => 'ffffffffffffffff' };
    const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['always_on']!(), idGenerator });
    const tracer = provider.getTracer('t');
    assert.equal(tracer.startSpan('new').spanContext().traceFlags, 0x01);
    assert.equal(tracer.startSpan('continued', {}, remoteParent(0x03)).spanContext().traceFlags, 0x03);
  });

  for (const [name, make] of [
    ['our pooled generator (what start.ts passes)', () => new PooledRandomIdGenerator()],
    ["the SDK's RandomIdGenerator given explicitly", () => new RandomIdGenerator()],
  ] as const) {
    test(`with ${name}, new trace ids are random: the flag is set`, () => {
      const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['always_on']!(), idGenerator: make() });
      const tracer = provider.getTracer('t');
      assert.equal(tracer.startSpan('new').spanContext().traceFlags, 0x03);
      assert.equal(tracer.startSpan('continued', {}, remoteParent(0x01)).spanContext().traceFlags, 0x01);
    });
  }

  test('suppressed tracing: the shared invalid span context is left alone', () => {
    const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['always_on']!() });
    const span = provider.getTracer('t').startSpan('s', {}, suppressTracing(remoteParent(0x03)));
    assert.deepEqual(span.spanContext(), INVALID_SPAN_CONTEXT);
    assert.equal(INVALID_SPAN_CONTEXT.traceFlags, 0);
  });

  test('a parent that is not valid starts a new, random trace', () => {
    const provider = new RandomTraceIdFlagTracerProvider({ sampler: SAMPLERS['parentbased_always_on']!() });
    const invalid: SpanContext = { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: 0x01 };
    assert.equal(provider.getTracer('t').startSpan('s', {}, trace.setSpanContext(ROOT_CONTEXT, invalid)).spanContext().traceFlags, 0x03);
  });

  test('getTracer still gives one tracer per name, patched once', () => {
    const provider = new RandomTraceIdFlagTracerProvider();
    const tracer = provider.getTracer('t', '1');
    const startSpan = tracer.startSpan;
    assert.equal(provider.getTracer('t', '1'), tracer);
    assert.equal(tracer.startSpan, startSpan);
    assert.equal(tracer.startSpan('s', {}, remoteParent(0x03)).spanContext().traceFlags, 0x03);
  });
});
