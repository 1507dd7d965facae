import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { CloudTracePropagator } from '../../../src/propagators/cloud-trace.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = '00f067aa0ba902b7';
const SPAN_DECIMAL = '67667974448284343';

const propagator = new CloudTracePropagator();

function extract(value: unknown): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'x-cloud-trace-context': value }, defaultTextMapGetter));
}

function inject(spanContext: SpanContext): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  return carrier;
}

describe('X-Cloud-Trace-Context that is accepted', () => {
  const cases: { name: string; value: unknown; expected: Omit<SpanContext, 'isRemote'> }[] = [
    { name: 'sampled', value: `${TRACE_ID}/${SPAN_DECIMAL};o=1`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
    { name: 'not sampled', value: `${TRACE_ID}/${SPAN_DECIMAL};o=0`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE } },
    { name: 'without options, not sampled', value: `${TRACE_ID}/${SPAN_DECIMAL}`, expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE } },
    {
      name: 'an uppercase trace id, lowercased',
      value: `${TRACE_ID.toUpperCase()}/${SPAN_DECIMAL};o=1`,
      expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
    { name: 'span id 1', value: `${TRACE_ID}/1;o=1`, expected: { traceId: TRACE_ID, spanId: '0000000000000001', traceFlags: TraceFlags.SAMPLED } },
    {
      name: 'span id 2^64-1',
      value: `${TRACE_ID}/18446744073709551615;o=1`,
      expected: { traceId: TRACE_ID, spanId: 'ffffffffffffffff', traceFlags: TraceFlags.SAMPLED },
    },
    {
      name: 'a span id with leading zeros',
      value: `${TRACE_ID}/000${SPAN_DECIMAL};o=1`,
      expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
    {
      name: 'the first of two values',
      value: [`${TRACE_ID}/${SPAN_DECIMAL};o=1`, 'garbage'],
      expected: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
    },
  ];
  for (const { name, value, expected } of cases) {
    test(name, () => {
      assert.deepEqual(extract(value), { ...expected, isRemote: true });
    });
  }
});

describe('X-Cloud-Trace-Context that is rejected', () => {
  const cases: { name: string; value: unknown }[] = [
    { name: 'span id 2^64', value: `${TRACE_ID}/18446744073709551616;o=1` },
    { name: 'span id 99999999999999999999', value: `${TRACE_ID}/99999999999999999999;o=1` },
    { name: 'a 21-digit span id', value: `${TRACE_ID}/000000000000000000001;o=1` },
    { name: 'span id 0', value: `${TRACE_ID}/0;o=1` },
    { name: 'no span id', value: `${TRACE_ID}/;o=1` },
    { name: 'only a trace id', value: TRACE_ID },
    { name: 'a hex span id', value: `${TRACE_ID}/${SPAN_ID};o=1` },
    { name: 'a negative span id', value: `${TRACE_ID}/-1;o=1` },
    { name: 'an all-zero trace id', value: `${'0'.repeat(32)}/${SPAN_DECIMAL};o=1` },
    { name: 'a 31-digit trace id', value: `${TRACE_ID.slice(1)}/${SPAN_DECIMAL};o=1` },
    { name: 'a 33-digit trace id', value: `${TRACE_ID}0/${SPAN_DECIMAL};o=1` },
    { name: 'options 2', value: `${TRACE_ID}/${SPAN_DECIMAL};o=2` },
    { name: 'empty options', value: `${TRACE_ID}/${SPAN_DECIMAL};o=` },
    { name: 'other options', value: `${TRACE_ID}/${SPAN_DECIMAL};x=1` },
    { name: 'trailing characters', value: `${TRACE_ID}/${SPAN_DECIMAL};o=1;` },
    { name: 'a leading space', value: ` ${TRACE_ID}/${SPAN_DECIMAL};o=1` },
    { name: 'a trailing space', value: `${TRACE_ID}/${SPAN_DECIMAL};o=1 ` },
    { name: 'leading characters', value: `x${TRACE_ID}/${SPAN_DECIMAL};o=1` },
    { name: 'fullwidth digits in the span id', value: `${TRACE_ID}/６７;o=1` },
    { name: 'an empty value', value: '' },
    { name: 'a number', value: 1 },
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
      name: 'the span id in decimal, sampled',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
      expected: { 'x-cloud-trace-context': `${TRACE_ID}/${SPAN_DECIMAL};o=1` },
    },
    {
      name: 'not sampled',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE },
      expected: { 'x-cloud-trace-context': `${TRACE_ID}/${SPAN_DECIMAL};o=0` },
    },
    {
      name: 'only the sampled bit of the flags',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x03 },
      expected: { 'x-cloud-trace-context': `${TRACE_ID}/${SPAN_DECIMAL};o=1` },
    },
    {
      name: 'the largest span id',
      spanContext: { traceId: TRACE_ID, spanId: 'ffffffffffffffff', traceFlags: 1 },
      expected: { 'x-cloud-trace-context': `${TRACE_ID}/18446744073709551615;o=1` },
    },
    {
      name: 'nothing for an invalid span context',
      spanContext: { traceId: TRACE_ID, spanId: '0'.repeat(16), traceFlags: 1 },
      expected: {},
    },
  ];
  for (const { name, spanContext, expected } of cases) {
    test(name, () => {
      assert.deepEqual(inject(spanContext), expected);
    });
  }

  test('nothing when tracing is suppressed', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(suppressTracing(ROOT_CONTEXT), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('what inject writes, extract reads back', () => {
    const spanContext = { traceId: TRACE_ID, spanId: '8000000000000001', traceFlags: TraceFlags.SAMPLED };
    assert.deepEqual(extract(inject(spanContext)['x-cloud-trace-context']), { ...spanContext, isRemote: true });
  });

  test('fields are X-Cloud-Trace-Context', () => {
    assert.deepEqual(propagator.fields(), ['x-cloud-trace-context']);
  });
});
