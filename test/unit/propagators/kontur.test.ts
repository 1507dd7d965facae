import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { KonturPropagator } from '../../../src/propagators/kontur.ts';

const TRACE_ID = '15faec191ff5763544c32caa7c8aab4c';
const SPAN_ID = 'b7ad6b7169203331';
const SPAN_ID_REGEX = /^(?!0{16})[0-9a-f]{16}$/;

const propagator = new KonturPropagator();

function extract(headers: Record<string, unknown>): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
}

describe('X-Kontur-Trace-Id that is accepted', () => {
  const cases: { name: string; value: unknown }[] = [
    { name: '32 lowercase hex digits', value: TRACE_ID },
    { name: '32 uppercase hex digits', value: TRACE_ID.toUpperCase() },
    { name: 'mixed case', value: '15FAec191ff5763544C32caa7c8aab4C' },
    { name: 'a dashed lowercase Guid', value: '15faec19-1ff5-7635-44c3-2caa7c8aab4c' },
    { name: 'a dashed uppercase Guid', value: '15FAEC19-1FF5-7635-44C3-2CAA7C8AAB4C' },
    { name: 'the first of two values', value: [TRACE_ID, 'ffffffffffffffffffffffffffffffff'] },
  ];
  for (const { name, value } of cases) {
    test(`${name} gives the trace id in lowercase`, () => {
      const spanContext = extract({ 'x-kontur-trace-id': value });
      assert.equal(spanContext?.traceId, TRACE_ID);
      assert.match(spanContext.spanId, SPAN_ID_REGEX);
      assert.equal(spanContext.isRemote, true);
      assert.equal(spanContext.traceFlags, TraceFlags.SAMPLED);
    });
  }
});

describe('X-Kontur-Trace-Id that is rejected', () => {
  const cases: { name: string; value: unknown }[] = [
    { name: 'all zeros', value: '0'.repeat(32) },
    { name: 'a dashed all-zero Guid', value: '00000000-0000-0000-0000-000000000000' },
    { name: '31 digits', value: TRACE_ID.slice(1) },
    { name: '33 digits', value: `${TRACE_ID}0` },
    { name: '16 digits', value: TRACE_ID.slice(16) },
    { name: 'a leading space', value: ` ${TRACE_ID}` },
    { name: 'a trailing space', value: `${TRACE_ID} ` },
    { name: 'a trailing newline', value: `${TRACE_ID}\n` },
    { name: 'a tab inside', value: `${TRACE_ID.slice(0, 16)}\t${TRACE_ID.slice(16)}` },
    { name: 'a Guid in braces', value: '{15faec19-1ff5-7635-44c3-2caa7c8aab4c}' },
    { name: 'a Guid with misplaced dashes', value: '15faec191-ff5-7635-44c3-2caa7c8aab4c' },
    { name: 'a Guid missing one dash', value: '15faec19-1ff57635-44c3-2caa7c8aab4c' },
    { name: 'a non-hex digit', value: `${TRACE_ID.slice(0, 31)}g` },
    { name: 'fullwidth digits', value: '１５faec191ff5763544c32caa7c8aab4c' },
    { name: 'a traceparent', value: `00-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'two values joined by a proxy', value: `${TRACE_ID}, ${TRACE_ID}` },
    { name: 'an empty value', value: '' },
    { name: 'a number', value: 15 },
    { name: 'an empty array', value: [] },
  ];
  for (const { name, value } of cases) {
    test(name, () => {
      assert.equal(extract({ 'x-kontur-trace-id': value, 'x-kontur-trace-spanid': SPAN_ID }), undefined);
    });
  }
});

describe('X-Kontur-Trace-SpanId', () => {
  const cases: { name: string; value: unknown; spanId: string | undefined }[] = [
    { name: '16 hex digits are the parent span id', value: SPAN_ID, spanId: SPAN_ID },
    { name: 'uppercase is lowercased', value: SPAN_ID.toUpperCase(), spanId: SPAN_ID },
    { name: 'all zeros are replaced', value: '0'.repeat(16), spanId: undefined },
    { name: '15 digits are replaced', value: SPAN_ID.slice(1), spanId: undefined },
    { name: '32 digits are replaced', value: TRACE_ID, spanId: undefined },
    { name: 'a padded value is replaced', value: ` ${SPAN_ID}`, spanId: undefined },
    { name: 'a non-hex value is replaced', value: 'not-a-span-id!!!', spanId: undefined },
  ];
  for (const { name, value, spanId } of cases) {
    test(name, () => {
      const extracted = extract({ 'x-kontur-trace-id': TRACE_ID, 'x-kontur-trace-spanid': value });
      assert.equal(extracted?.traceId, TRACE_ID);
      if (spanId !== undefined) assert.equal(extracted.spanId, spanId);
      else assert.match(extracted.spanId, SPAN_ID_REGEX);
    });
  }

  test('without it, every request gets its own random parent span id', () => {
    const first = extract({ 'x-kontur-trace-id': TRACE_ID });
    const second = extract({ 'x-kontur-trace-id': TRACE_ID });
    assert.match(first?.spanId ?? '', SPAN_ID_REGEX);
    assert.match(second?.spanId ?? '', SPAN_ID_REGEX);
    assert.notEqual(first?.spanId, second?.spanId);
  });
});

describe('X-Kontur-Trace-IsSampled', () => {
  const cases: { name: string; value: unknown; traceFlags: TraceFlags }[] = [
    { name: 'absent means sampled', value: undefined, traceFlags: TraceFlags.SAMPLED },
    { name: 'true means sampled', value: 'true', traceFlags: TraceFlags.SAMPLED },
    { name: '.NET True means sampled', value: 'True', traceFlags: TraceFlags.SAMPLED },
    { name: 'false means not sampled', value: 'false', traceFlags: TraceFlags.NONE },
    { name: 'an empty value means not sampled', value: '', traceFlags: TraceFlags.NONE },
    { name: '1 is not true', value: '1', traceFlags: TraceFlags.NONE },
    { name: 'anything else means not sampled', value: 'yes', traceFlags: TraceFlags.NONE },
  ];
  for (const { name, value, traceFlags } of cases) {
    test(name, () => {
      const headers: Record<string, unknown> = { 'x-kontur-trace-id': TRACE_ID };
      if (value !== undefined) headers['x-kontur-trace-issampled'] = value;
      assert.equal(extract(headers)?.traceFlags, traceFlags);
    });
  }
});

describe('inject', () => {
  test('writes only the trace id', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 });
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, { 'x-kontur-trace-id': TRACE_ID });
  });

  test('writes nothing for an invalid span context', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: '0'.repeat(16), traceFlags: 1 }), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('writes nothing when tracing is suppressed', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(suppressTracing(ROOT_CONTEXT), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('fields list every header read or written', () => {
    assert.deepEqual(propagator.fields(), ['x-kontur-trace-id', 'x-kontur-trace-spanid', 'x-kontur-trace-issampled']);
  });
});
