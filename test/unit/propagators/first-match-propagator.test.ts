import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { FirstMatchPropagator, type PropagatorEntry } from '../../../src/propagators/first-match-propagator.ts';

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);
const SPAN_ID = '1234567890abcdef';
const MARKER = createContextKey('test marker');

/** A trace format whose header holds the trace id as is, valid or not; it records what ran. */
function traceFormat(header: string, calls: string[] = []): TextMapPropagator {
  return {
    inject(context, carrier, setter) {
      calls.push(`inject ${header}`);
      const spanContext = trace.getSpanContext(context);
      if (spanContext) setter.set(carrier, header, spanContext.traceId);
    },
    extract(context, carrier, getter) {
      calls.push(`extract ${header}`);
      const traceId = getter.get(carrier, header);
      if (typeof traceId !== 'string') return context;
      return trace.setSpanContext(context.setValue(MARKER, header), { traceId, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    },
    fields: () => [header],
  };
}

const throwing: TextMapPropagator = {
  inject() {
    throw new Error('inject failed');
  },
  extract() {
    throw new Error('extract failed');
  },
  fields() {
    throw new Error('fields failed');
  },
};

function tracing(name: string, propagator: TextMapPropagator): PropagatorEntry {
  return { name, propagator, carriesTraceContext: true };
}

function other(name: string, propagator: TextMapPropagator): PropagatorEntry {
  return { name, propagator, carriesTraceContext: false };
}

function extract(propagator: TextMapPropagator, carrier: Record<string, unknown>, context: Context = ROOT_CONTEXT): Context {
  return propagator.extract(context, carrier, defaultTextMapGetter);
}

describe('extract', () => {
  const cases: { name: string; carrier: Record<string, string>; traceId: string | undefined; ran: string[] }[] = [
    { name: 'the first format that matches wins', carrier: { first: TRACE_A, second: TRACE_B }, traceId: TRACE_A, ran: ['extract first'] },
    { name: 'a later format is used when the first is absent', carrier: { second: TRACE_B }, traceId: TRACE_B, ran: ['extract first', 'extract second'] },
    {
      name: 'a later format is used when the first is invalid',
      carrier: { first: '0'.repeat(32), second: TRACE_B },
      traceId: TRACE_B,
      ran: ['extract first', 'extract second'],
    },
    {
      name: 'a later format is used when the first is not hex',
      carrier: { first: 'z'.repeat(32), second: TRACE_B },
      traceId: TRACE_B,
      ran: ['extract first', 'extract second'],
    },
    { name: 'nothing matches', carrier: {}, traceId: undefined, ran: ['extract first', 'extract second'] },
    { name: 'uppercase ids are lowercased', carrier: { first: TRACE_A.toUpperCase() }, traceId: TRACE_A, ran: ['extract first'] },
  ];
  for (const { name, carrier, traceId, ran } of cases) {
    test(name, () => {
      const calls: string[] = [];
      const propagator = new FirstMatchPropagator([tracing('first', traceFormat('first', calls)), tracing('second', traceFormat('second', calls))]);
      const spanContext = trace.getSpanContext(extract(propagator, carrier));
      assert.equal(spanContext?.traceId, traceId);
      if (traceId !== undefined) assert.equal(spanContext?.spanId, SPAN_ID);
      assert.deepEqual(calls, ran);
    });
  }

  test('values set by a rejected format do not leak into the result', () => {
    const propagator = new FirstMatchPropagator([tracing('first', traceFormat('first')), tracing('second', traceFormat('second'))]);
    const context = extract(propagator, { first: '0'.repeat(32), second: TRACE_B });
    assert.equal(context.getValue(MARKER), 'second');
  });

  test('baggage is applied before and after the trace formats, whichever matched', () => {
    const propagator = new FirstMatchPropagator([
      tracing('first', traceFormat('first')),
      other('baggage', new W3CBaggagePropagator()),
      tracing('second', traceFormat('second')),
    ]);
    for (const carrier of [{ first: TRACE_A, baggage: 'k=v' }, { second: TRACE_B, baggage: 'k=v' }, { baggage: 'k=v' }]) {
      const context = extract(propagator, carrier);
      assert.equal(propagation.getBaggage(context)?.getEntry('k')?.value, 'v', JSON.stringify(carrier));
    }
  });

  test('a span already in the incoming context does not count as a match', () => {
    const incoming = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_B, spanId: SPAN_ID, traceFlags: 1 });
    const passThrough: TextMapPropagator = { inject() {}, extract: (context) => context, fields: () => [] };
    const propagator = new FirstMatchPropagator([tracing('pass', passThrough), tracing('first', traceFormat('first'))]);
    assert.equal(trace.getSpanContext(extract(propagator, { first: TRACE_A }, incoming))?.traceId, TRACE_A);
    assert.equal(trace.getSpanContext(extract(propagator, {}, incoming))?.traceId, TRACE_B);
  });

  test('an exception leaves the context as it was and the next format still runs', () => {
    const propagator = new FirstMatchPropagator([
      tracing('throwing', throwing),
      other('throwing-baggage', throwing),
      tracing('first', traceFormat('first')),
    ]);
    assert.equal(trace.getSpanContext(extract(propagator, { first: TRACE_A }))?.traceId, TRACE_A);
    assert.equal(extract(propagator, {}), ROOT_CONTEXT);
  });

  test('a propagator returning something other than a context is ignored', () => {
    const broken = { inject() {}, extract: () => undefined, fields: () => [] } as unknown as TextMapPropagator;
    const propagator = new FirstMatchPropagator([other('broken', broken), tracing('broken', broken), tracing('first', traceFormat('first'))]);
    assert.equal(trace.getSpanContext(extract(propagator, { first: TRACE_A }))?.traceId, TRACE_A);
  });

  test('an empty list returns the incoming context', () => {
    const propagator = new FirstMatchPropagator([]);
    assert.equal(extract(propagator, { first: TRACE_A }), ROOT_CONTEXT);
  });
});

describe('inject', () => {
  test('every propagator writes, in order, past one that throws', () => {
    const calls: string[] = [];
    const propagator = new FirstMatchPropagator([
      tracing('first', traceFormat('first', calls)),
      tracing('throwing', throwing),
      tracing('second', traceFormat('second', calls)),
    ]);
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_A, spanId: SPAN_ID, traceFlags: 1 }), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, { first: TRACE_A, second: TRACE_A });
    assert.deepEqual(calls, ['inject first', 'inject second']);
  });

  test('an empty list writes nothing', () => {
    const carrier: Record<string, string> = {};
    new FirstMatchPropagator([]).inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_A, spanId: SPAN_ID, traceFlags: 1 }), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });
});

describe('fields', () => {
  test('are the union in list order, without duplicates, skipping a propagator that throws', () => {
    const propagator = new FirstMatchPropagator([
      tracing('first', traceFormat('first')),
      tracing('throwing', throwing),
      other('baggage', new W3CBaggagePropagator()),
      tracing('again', traceFormat('first')),
      tracing('second', traceFormat('second')),
    ]);
    assert.deepEqual(propagator.fields(), ['first', 'baggage', 'second']);
  });

  test('a caller changing the returned list does not change the propagator', () => {
    const propagator = new FirstMatchPropagator([tracing('first', traceFormat('first'))]);
    propagator.fields().push('mutated');
    assert.deepEqual(propagator.fields(), ['first']);
  });
});
