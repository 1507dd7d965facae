import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { VostokPropagator } from '../../../src/propagators/vostok.ts';

// The example of PROPAGATORS.md, byte for byte.
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const VALUE_TEXT = '0af76519-16cd-43dd-8448-eb211c80319c;b7ad6b71-6920-3331-0000-000000000000';
const HEADER =
  'FgAAAHZvc3Rvay50cmFjaW5nLmNvbnRleHRJAAAAMGFmNzY1MTktMTZjZC00M2RkLTg0NDgtZWIyMTFjODAzMTljO2I3YWQ2YjcxLTY5MjAtMzMzMS0wMDAwLTAwMDAwMDAwMDAwMA==';
const TRACE_KEY = 'vostok.tracing.context';

const propagator = new VostokPropagator();

function extract(value: unknown): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'context-globals': value }, defaultTextMapGetter));
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32LE(value, 0);
  return bytes;
}

function entry(key: string, value: string): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const valueBytes = Buffer.from(value, 'utf8');
  return Buffer.concat([int32(keyBytes.length), keyBytes, int32(valueBytes.length), valueBytes]);
}

function globals(...entries: Buffer[]): string {
  return Buffer.concat(entries).toString('base64');
}

describe('the PROPAGATORS.md example', () => {
  test('the entry bytes are the documented ones', () => {
    const bytes = Buffer.from(HEADER, 'base64');
    assert.deepEqual([...bytes.subarray(0, 4)], [0x16, 0, 0, 0]);
    assert.equal(bytes.subarray(4, 26).toString('utf8'), TRACE_KEY);
    assert.deepEqual([...bytes.subarray(26, 30)], [0x49, 0, 0, 0]);
    assert.equal(bytes.subarray(30).toString('utf8'), VALUE_TEXT);
    assert.equal(bytes.length, 30 + 73);
  });

  test('inject writes exactly the documented header', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 }), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, { 'context-globals': HEADER });
  });

  test('extract reads the documented header as a sampled remote context', () => {
    assert.deepEqual(extract(HEADER), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });
});

describe('Context-Globals that is accepted', () => {
  const cases: { name: string; value: unknown; spanId?: string }[] = [
    { name: 'the trace entry after other globals', value: globals(entry('vostok.request.priority', 'Ordinary'), entry(TRACE_KEY, VALUE_TEXT)) },
    { name: 'the trace entry before other globals', value: globals(entry(TRACE_KEY, VALUE_TEXT), entry('vostok.request.priority', 'Ordinary')) },
    { name: 'a malformed entry after the trace entry (Vostok stops there too)', value: globals(entry(TRACE_KEY, VALUE_TEXT), int32(-1)) },
    { name: 'the first of two trace entries', value: globals(entry(TRACE_KEY, VALUE_TEXT), entry(TRACE_KEY, `${'1'.repeat(32)};${'2'.repeat(32)}`)) },
    { name: 'uppercase Guids', value: globals(entry(TRACE_KEY, VALUE_TEXT.toUpperCase())) },
    { name: 'Guids in braces', value: globals(entry(TRACE_KEY, '{0af76519-16cd-43dd-8448-eb211c80319c};{b7ad6b71-6920-3331-0000-000000000000}')) },
    { name: 'Guids in parentheses', value: globals(entry(TRACE_KEY, '(0af76519-16cd-43dd-8448-eb211c80319c);(b7ad6b71-6920-3331-0000-000000000000)')) },
    { name: '32-digit Guids', value: globals(entry(TRACE_KEY, `${TRACE_ID};${SPAN_ID}0000000000000000`)) },
    { name: 'a leading delimiter (.NET drops empty parts)', value: globals(entry(TRACE_KEY, `;${VALUE_TEXT}`)) },
    { name: 'a doubled delimiter', value: globals(entry(TRACE_KEY, VALUE_TEXT.replace(';', ';;'))) },
    {
      name: 'a span Guid with a non-zero second half, which is dropped',
      value: globals(entry(TRACE_KEY, '0af76519-16cd-43dd-8448-eb211c80319c;b7ad6b71-6920-3331-1234-56789abcdef0')),
    },
    { name: 'the first of two header values', value: [HEADER, 'garbage'] },
  ];
  for (const { name, value } of cases) {
    test(name, () => {
      assert.deepEqual(extract(value), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    });
  }
});

describe('Context-Globals that is ignored', () => {
  const valid = Buffer.from(HEADER, 'base64');
  const cases: { name: string; value: unknown }[] = [
    { name: 'an empty value', value: '' },
    { name: 'characters outside base64', value: '!!!!' },
    { name: 'base64 without padding', value: HEADER.replace(/=+$/, '') },
    { name: 'base64 with a space inside', value: `${HEADER.slice(0, 8)} ${HEADER.slice(8)}` },
    { name: 'a leading space', value: ` ${HEADER}` },
    { name: 'URL-safe base64 characters', value: `${HEADER.slice(0, 8)}-_${HEADER.slice(10)}` },
    { name: 'padding in the middle', value: `${HEADER.slice(0, 4)}==${HEADER.slice(6)}` },
    { name: 'a negative key length', value: globals(int32(-22), valid.subarray(4)) },
    { name: 'a key length past the end', value: globals(int32(1_000_000), valid.subarray(4)) },
    { name: 'a negative value length', value: globals(valid.subarray(0, 26), int32(-73), valid.subarray(30)) },
    { name: 'a value length past the end', value: globals(valid.subarray(0, 26), int32(74), valid.subarray(30)) },
    { name: 'a truncated value', value: globals(valid.subarray(0, valid.length - 1)) },
    { name: 'a truncated length prefix', value: globals(valid.subarray(0, 2)) },
    { name: 'a malformed entry before the trace entry', value: globals(int32(3), Buffer.from('abc'), int32(-1), entry(TRACE_KEY, VALUE_TEXT)) },
    { name: 'no trace entry', value: globals(entry('vostok.request.priority', 'Ordinary')) },
    { name: 'a trace key in another case', value: globals(entry('Vostok.Tracing.Context', VALUE_TEXT)) },
    { name: 'a missing delimiter', value: globals(entry(TRACE_KEY, VALUE_TEXT.replace(';', ''))) },
    { name: 'three parts', value: globals(entry(TRACE_KEY, `${VALUE_TEXT};${TRACE_ID}`)) },
    { name: 'only a trace Guid', value: globals(entry(TRACE_KEY, '0af76519-16cd-43dd-8448-eb211c80319c;')) },
    { name: 'an unparsable trace Guid', value: globals(entry(TRACE_KEY, VALUE_TEXT.replace('0af76519', '0af7651g'))) },
    { name: 'a Guid with spaces around', value: globals(entry(TRACE_KEY, ` ${VALUE_TEXT.replace(';', ' ; ')} `)) },
    { name: 'a Guid with misplaced dashes', value: globals(entry(TRACE_KEY, VALUE_TEXT.replace('0af76519-16cd', '0af7651-916cd'))) },
    { name: 'an all-zero trace Guid', value: globals(entry(TRACE_KEY, `00000000-0000-0000-0000-000000000000;${VALUE_TEXT.split(';')[1]}`)) },
    {
      name: 'a span Guid whose first 16 digits are zero',
      value: globals(entry(TRACE_KEY, '0af76519-16cd-43dd-8448-eb211c80319c;00000000-0000-0000-1234-56789abcdef0')),
    },
    { name: 'a number', value: 42 },
    { name: 'an empty array', value: [] },
  ];
  for (const { name, value } of cases) {
    test(name, () => {
      assert.equal(extract(value), undefined);
    });
  }
});

describe('inject', () => {
  test('a span context written by us reads back with the same ids', () => {
    const carrier: Record<string, string> = {};
    const spanContext = { traceId: 'ffffffffffffffff0000000000000001', spanId: '0000000000000001', traceFlags: 0 };
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
    assert.deepEqual(extract(carrier['context-globals']), { ...spanContext, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  test('writes nothing for an invalid span context', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: 1 }), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('writes nothing when tracing is suppressed', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(suppressTracing(ROOT_CONTEXT), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  test('fields are Context-Globals', () => {
    assert.deepEqual(propagator.fields(), ['context-globals']);
  });
});
