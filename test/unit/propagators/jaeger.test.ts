import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { JaegerPropagator } from '../../../src/propagators/jaeger.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

const propagator = new JaegerPropagator();

function extract(value: unknown): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'uber-trace-id': value }, defaultTextMapGetter));
}

describe('uber-trace-id that is accepted', () => {
  const cases: { name: string; value: unknown; expected: Omit<SpanContext, 'isRemote'> }[] = [
    { name: 'a 128-bit trace id, sampled', value: `${TRACE_ID}:${SPAN_ID}:0:1`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    { name: 'flags as two digits', value: `${TRACE_ID}:${SPAN_ID}:0:01`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    { name: 'not sampled', value: `${TRACE_ID}:${SPAN_ID}:0:0`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE } },
    { name: 'debug and sampled', value: `${TRACE_ID}:${SPAN_ID}:0:3`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    { name: 'firehose without sampled', value: `${TRACE_ID}:${SPAN_ID}:0:8`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE } },
    {
      name: 'a 64-bit trace id, left-padded to 32',
      value: `8448eb211c80319c:${SPAN_ID}:0:1`,
      expected: { traceId: '00000000000000008448eb211c80319c', spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
    {
      name: 'ids whose leading zeros were dropped',
      value: `48eb211c80319c:ad6b7169203331:0:1`,
      expected: { traceId: `${'0'.repeat(18)}48eb211c80319c`, spanId: '00ad6b7169203331', traceFlags: TraceFlags.SAMPLED },
    },
    { name: 'a parent span id', value: `${TRACE_ID}:${SPAN_ID}:53995c3f42cd8ad8:1`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    {
      name: 'uppercase hex, lowercased',
      value: `${TRACE_ID.toUpperCase()}:${SPAN_ID.toUpperCase()}:0:1`,
      expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
    { name: 'URL-encoded colons', value: `${TRACE_ID}%3A${SPAN_ID}%3A0%3A1`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    { name: 'lowercase URL-encoded colons', value: `${TRACE_ID}%3a${SPAN_ID}%3a0%3a1`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    {
      name: 'the first of two values',
      value: [`${TRACE_ID}:${SPAN_ID}:0:1`, `${'1'.repeat(32)}:${SPAN_ID}:0:1`],
      expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
  ];
  for (const { name, value, expected } of cases) {
    test(name, () => {
      assert.deepEqual(extract(value), { ...expected, isRemote: true });
    });
  }
});

describe('uber-trace-id that is rejected', () => {
  const cases: { name: string; value: unknown }[] = [
    { name: 'an all-zero trace id', value: `${'0'.repeat(32)}:${SPAN_ID}:0:1` },
    { name: 'a zero trace id', value: `0:${SPAN_ID}:0:1` },
    { name: 'a zero span id', value: `${TRACE_ID}:0:0:1` },
    { name: 'a 33-digit trace id', value: `${TRACE_ID}0:${SPAN_ID}:0:1` },
    { name: 'a 17-digit span id', value: `${TRACE_ID}:${SPAN_ID}0:0:1` },
    { name: 'three-digit flags', value: `${TRACE_ID}:${SPAN_ID}:0:001` },
    { name: 'no flags', value: `${TRACE_ID}:${SPAN_ID}:0:` },
    { name: 'three fields', value: `${TRACE_ID}:${SPAN_ID}:1` },
    { name: 'five fields', value: `${TRACE_ID}:${SPAN_ID}:0:1:0` },
    { name: 'an empty parent span id', value: `${TRACE_ID}:${SPAN_ID}::1` },
    { name: 'a non-hex trace id', value: `${TRACE_ID.slice(0, 31)}g:${SPAN_ID}:0:1` },
    { name: 'a leading space', value: ` ${TRACE_ID}:${SPAN_ID}:0:1` },
    { name: 'a trailing space', value: `${TRACE_ID}:${SPAN_ID}:0:1 ` },
    { name: 'a malformed escape', value: `${TRACE_ID}%3${SPAN_ID}%3A0%3A1` },
    { name: 'a lone percent sign', value: `${TRACE_ID}:${SPAN_ID}:0:1%` },
    { name: 'an encoded value that is too long', value: `${TRACE_ID}%3A${SPAN_ID}%3A0%3A1${'%20'.repeat(10)}` },
    { name: 'an encoded space', value: `${TRACE_ID}%3A${SPAN_ID}%3A0%3A%201` },
    { name: 'an empty value', value: '' },
    { name: 'a number', value: 7 },
  ];
  for (const { name, value } of cases) {
    test(name, () => {
      assert.equal(extract(value), undefined);
    });
  }
});

describe('inject', () => {
  const cases: { name: string; spanContext: SpanContext; expected: Record<string, string> }[] = [
    {
      name: 'a sampled span with parent 0',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
      expected: { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:01` },
    },
    {
      name: 'a span that is not sampled',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE },
      expected: { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:00` },
    },
    {
      name: 'only the sampled bit',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x03 },
      expected: { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:01` },
    },
    {
      name: 'nothing for an invalid span context',
      spanContext: { traceId: 'x'.repeat(32), spanId: SPAN_ID, traceFlags: 1 },
      expected: {},
    },
  ];
  for (const { name, spanContext, expected } of cases) {
    test(name, () => {
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
      assert.deepEqual(carrier, expected);
    });
  }

  test('nothing when tracing is suppressed', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(suppressTracing(ROOT_CONTEXT), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('fields are uber-trace-id', () => {
    assert.deepEqual(propagator.fields(), ['uber-trace-id']);
  });
});
