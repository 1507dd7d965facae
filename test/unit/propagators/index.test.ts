import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { createPropagator, PROPAGATOR_ALIASES, PROPAGATOR_NAMES, type PropagatorName } from '../../../src/propagators/index.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const KONTUR_TRACE_ID = '15faec191ff5763544c32caa7c8aab4c';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

function extract(propagator: TextMapPropagator, carrier: Record<string, unknown>): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

function inject(propagator: TextMapPropagator, context: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return carrier;
}

const SAMPLED_SPAN = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });

describe('names', () => {
  test('are the OTEL_PROPAGATORS values we accept', () => {
    assert.deepEqual(PROPAGATOR_NAMES, ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'xray', 'ottrace', 'kontur', 'vostok', 'cloudtrace', 'none']);
  });

  test('xcloud and gcp are cloudtrace', () => {
    assert.equal(PROPAGATOR_ALIASES['xcloud'], 'cloudtrace');
    assert.equal(PROPAGATOR_ALIASES['gcp'], 'cloudtrace');
  });

  test('Object.prototype members are not aliases', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) assert.equal(PROPAGATOR_ALIASES[name], undefined, name);
  });
});

describe('each propagator alone', () => {
  // One valid header per format, and what inject writes for SAMPLED_SPAN.
  const cases: { name: PropagatorName; fields: string[]; carrier: Record<string, string>; traceId: string; injected: Record<string, string> }[] = [
    {
      name: 'tracecontext',
      fields: ['traceparent', 'tracestate'],
      carrier: { traceparent: TRACEPARENT },
      traceId: TRACE_ID,
      injected: { traceparent: TRACEPARENT },
    },
    {
      name: 'b3',
      fields: ['b3'],
      carrier: { b3: `${TRACE_ID}-${SPAN_ID}-1` },
      traceId: TRACE_ID,
      injected: { b3: `${TRACE_ID}-${SPAN_ID}-1` },
    },
    {
      name: 'b3multi',
      fields: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-flags', 'x-b3-sampled', 'x-b3-parentspanid'],
      carrier: { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': '1' },
      traceId: TRACE_ID,
      injected: { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': '1' },
    },
    {
      name: 'jaeger',
      fields: ['uber-trace-id'],
      carrier: { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:1` },
      traceId: TRACE_ID,
      injected: { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:01` },
    },
    {
      name: 'xray',
      fields: ['x-amzn-trace-id'],
      carrier: { 'x-amzn-trace-id': `Root=1-${TRACE_ID.slice(0, 8)}-${TRACE_ID.slice(8)};Parent=${SPAN_ID};Sampled=1` },
      traceId: TRACE_ID,
      injected: { 'x-amzn-trace-id': `Root=1-${TRACE_ID.slice(0, 8)}-${TRACE_ID.slice(8)};Parent=${SPAN_ID};Sampled=1` },
    },
    {
      name: 'ottrace',
      fields: ['ot-tracer-traceid', 'ot-tracer-spanid', 'ot-tracer-sampled'],
      carrier: { 'ot-tracer-traceid': TRACE_ID, 'ot-tracer-spanid': SPAN_ID, 'ot-tracer-sampled': 'true' },
      traceId: TRACE_ID,
      injected: { 'ot-tracer-traceid': TRACE_ID.slice(16), 'ot-tracer-spanid': SPAN_ID, 'ot-tracer-sampled': 'true' },
    },
    {
      name: 'kontur',
      fields: ['x-kontur-trace-id', 'x-kontur-trace-spanid', 'x-kontur-trace-issampled'],
      carrier: { 'x-kontur-trace-id': TRACE_ID },
      traceId: TRACE_ID,
      injected: { 'x-kontur-trace-id': TRACE_ID },
    },
    {
      name: 'vostok',
      fields: ['context-globals'],
      carrier: {
        'context-globals':
          'FgAAAHZvc3Rvay50cmFjaW5nLmNvbnRleHRJAAAAMGFmNzY1MTktMTZjZC00M2RkLTg0NDgtZWIyMTFjODAzMTljO2I3YWQ2YjcxLTY5MjAtMzMzMS0wMDAwLTAwMDAwMDAwMDAwMA==',
      },
      traceId: TRACE_ID,
      injected: {
        'context-globals':
          'FgAAAHZvc3Rvay50cmFjaW5nLmNvbnRleHRJAAAAMGFmNzY1MTktMTZjZC00M2RkLTg0NDgtZWIyMTFjODAzMTljO2I3YWQ2YjcxLTY5MjAtMzMzMS0wMDAwLTAwMDAwMDAwMDAwMA==',
      },
    },
    {
      name: 'cloudtrace',
      fields: ['x-cloud-trace-context'],
      carrier: { 'x-cloud-trace-context': `${TRACE_ID}/${BigInt(`0x${SPAN_ID}`)};o=1` },
      traceId: TRACE_ID,
      injected: { 'x-cloud-trace-context': `${TRACE_ID}/${BigInt(`0x${SPAN_ID}`)};o=1` },
    },
  ];
  for (const { name, fields, carrier, traceId, injected } of cases) {
    test(`${name}: fields, extract and inject`, () => {
      const propagator = createPropagator([name]);
      assert.deepEqual(propagator.fields(), fields);
      assert.equal(trace.getSpanContext(extract(propagator, carrier))?.traceId, traceId);
      assert.deepEqual(inject(propagator, SAMPLED_SPAN), injected);
    });
  }

  test('baggage: fields, extract and inject', () => {
    const propagator = createPropagator(['baggage']);
    assert.deepEqual(propagator.fields(), ['baggage']);
    const context = extract(propagator, { baggage: 'user=alice', traceparent: TRACEPARENT });
    assert.equal(propagation.getBaggage(context)?.getEntry('user')?.value, 'alice');
    assert.equal(trace.getSpanContext(context), undefined);
    assert.deepEqual(inject(propagator, context), { baggage: 'user=alice' });
  });
});

describe('each format with the W3C random-trace-id flag (0x02) in the context', () => {
  // What each format writes for flags 00, 01, 02, 03: the sampled state comes from bit 0x01 alone,
  // so 02 reads as not sampled and 03 as sampled. Only traceparent carries the random flag itself.
  const written: Record<Exclude<PropagatorName, 'none' | 'baggage'>, (sampled: boolean, flags: string) => Record<string, string>> = {
    tracecontext: (_, flags) => ({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-${flags}` }),
    b3: (sampled) => ({ b3: `${TRACE_ID}-${SPAN_ID}-${sampled ? 1 : 0}` }),
    b3multi: (sampled) => ({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': sampled ? '1' : '0' }),
    jaeger: (sampled) => ({ 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:${sampled ? '01' : '00'}` }),
    xray: (sampled) => ({ 'x-amzn-trace-id': `Root=1-${TRACE_ID.slice(0, 8)}-${TRACE_ID.slice(8)};Parent=${SPAN_ID};Sampled=${sampled ? 1 : 0}` }),
    ottrace: (sampled) => ({ 'ot-tracer-traceid': TRACE_ID.slice(16), 'ot-tracer-spanid': SPAN_ID, 'ot-tracer-sampled': String(sampled) }),
    kontur: () => ({ 'x-kontur-trace-id': TRACE_ID }),
    vostok: () => ({
      'context-globals':
        'FgAAAHZvc3Rvay50cmFjaW5nLmNvbnRleHRJAAAAMGFmNzY1MTktMTZjZC00M2RkLTg0NDgtZWIyMTFjODAzMTljO2I3YWQ2YjcxLTY5MjAtMzMzMS0wMDAwLTAwMDAwMDAwMDAwMA==',
    }),
    cloudtrace: (sampled) => ({ 'x-cloud-trace-context': `${TRACE_ID}/${BigInt(`0x${SPAN_ID}`)};o=${sampled ? 1 : 0}` }),
  };
  for (const [name, expected] of Object.entries(written) as [PropagatorName, (typeof written)[keyof typeof written]][]) {
    for (const traceFlags of [0x00, 0x01, 0x02, 0x03]) {
      const flags = traceFlags.toString(16).padStart(2, '0');
      test(`${name} with flags ${flags}`, () => {
        const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags });
        assert.deepEqual(inject(createPropagator([name]), context), expected((traceFlags & 0x01) === 0x01, flags));
      });
    }
  }

  test('a W3C 03 read, then written in every format: sampled everywhere, random only in traceparent', () => {
    const context = extract(createPropagator(['tracecontext']), { traceparent: `00-${TRACE_ID}-${SPAN_ID}-03` });
    const headers = inject(createPropagator(PROPAGATOR_NAMES.filter((name) => name !== 'none')), context);
    assert.equal(headers['traceparent'], `00-${TRACE_ID}-${SPAN_ID}-03`);
    assert.equal(headers['b3'], `${TRACE_ID}-${SPAN_ID}-1`);
    assert.equal(headers['x-b3-sampled'], '1');
    assert.equal(headers['uber-trace-id'], `${TRACE_ID}:${SPAN_ID}:0:01`);
    assert.match(headers['x-amzn-trace-id']!, /;Sampled=1$/);
    assert.equal(headers['ot-tracer-sampled'], 'true');
    assert.match(headers['x-cloud-trace-context']!, /;o=1$/);
  });

  test('formats without the flag extract contexts without it: we do not claim randomness for ids we did not make', () => {
    const carriers: [PropagatorName, Record<string, string>][] = [
      ['b3', { b3: `${TRACE_ID}-${SPAN_ID}-1` }],
      ['b3multi', { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': '1' }],
      ['jaeger', { 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:03` }],
      ['xray', { 'x-amzn-trace-id': `Root=1-${TRACE_ID.slice(0, 8)}-${TRACE_ID.slice(8)};Parent=${SPAN_ID};Sampled=1` }],
      ['ottrace', { 'ot-tracer-traceid': TRACE_ID, 'ot-tracer-spanid': SPAN_ID, 'ot-tracer-sampled': 'true' }],
      ['kontur', { 'x-kontur-trace-id': TRACE_ID }],
      ['cloudtrace', { 'x-cloud-trace-context': `${TRACE_ID}/${BigInt(`0x${SPAN_ID}`)};o=1` }],
    ];
    for (const [name, carrier] of carriers) {
      assert.equal(trace.getSpanContext(extract(createPropagator([name]), carrier))?.traceFlags, 0x01, name);
    }
  });
});

describe('a propagator that does nothing', () => {
  const cases: { name: string; names: PropagatorName[] }[] = [
    { name: 'none', names: ['none'] },
    { name: 'none among others, as in upstream', names: ['tracecontext', 'none', 'baggage'] },
    { name: 'an empty list', names: [] },
  ];
  for (const { name, names } of cases) {
    test(`for ${name}`, () => {
      const propagator = createPropagator(names);
      assert.deepEqual(propagator.fields(), []);
      assert.deepEqual(inject(propagator, SAMPLED_SPAN), {});
      assert.equal(extract(propagator, { traceparent: TRACEPARENT, baggage: 'k=v' }), ROOT_CONTEXT);
    });
  }
});

describe('names from a caller that did not validate them', () => {
  test('are trimmed, lowercased, resolved through aliases and counted once', () => {
    const propagator = createPropagator([' TraceContext ', 'GCP', 'xcloud', 'cloudtrace', 'tracecontext'] as unknown as PropagatorName[]);
    assert.deepEqual(propagator.fields(), ['traceparent', 'tracestate', 'x-cloud-trace-context']);
  });

  test('unknown names and non-strings are skipped', () => {
    const propagator = createPropagator(['nope', 'constructor', '__proto__', 42, null, 'kontur'] as unknown as PropagatorName[]);
    assert.deepEqual(propagator.fields(), ['x-kontur-trace-id', 'x-kontur-trace-spanid', 'x-kontur-trace-issampled']);
  });

  test('something other than an array gives a propagator that does nothing', () => {
    const propagator = createPropagator('tracecontext' as unknown as PropagatorName[]);
    assert.deepEqual(propagator.fields(), []);
  });
});

describe('tracecontext,kontur,baggage', () => {
  const propagator = createPropagator(['tracecontext', 'kontur', 'baggage']);
  const cases: { name: string; carrier: Record<string, string>; traceId: string; spanId?: string }[] = [
    {
      name: 'prefers traceparent when both are present',
      carrier: { traceparent: TRACEPARENT, 'x-kontur-trace-id': KONTUR_TRACE_ID, baggage: 'k=v' },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    },
    { name: 'uses X-Kontur-Trace-Id when it is alone', carrier: { 'x-kontur-trace-id': KONTUR_TRACE_ID, baggage: 'k=v' }, traceId: KONTUR_TRACE_ID },
    {
      name: 'uses X-Kontur-Trace-Id when traceparent is invalid',
      carrier: { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01`, 'x-kontur-trace-id': KONTUR_TRACE_ID, baggage: 'k=v' },
      traceId: KONTUR_TRACE_ID,
    },
  ];
  for (const { name, carrier, traceId, spanId } of cases) {
    test(`${name}, and applies baggage`, () => {
      const context = extract(propagator, carrier);
      const spanContext = trace.getSpanContext(context);
      assert.equal(spanContext?.traceId, traceId);
      if (spanId !== undefined) assert.equal(spanContext?.spanId, spanId);
      assert.equal(propagation.getBaggage(context)?.getEntry('k')?.value, 'v');
    });
  }

  test('inject writes both formats', () => {
    assert.deepEqual(inject(propagator, SAMPLED_SPAN), { traceparent: TRACEPARENT, 'x-kontur-trace-id': TRACE_ID });
  });

  test('the list order decides: kontur,tracecontext prefers X-Kontur-Trace-Id', () => {
    const reversed = createPropagator(['kontur', 'tracecontext']);
    const context = extract(reversed, { traceparent: TRACEPARENT, 'x-kontur-trace-id': KONTUR_TRACE_ID });
    assert.equal(trace.getSpanContext(context)?.traceId, KONTUR_TRACE_ID);
  });
});

describe('all propagators together', () => {
  const all = createPropagator(PROPAGATOR_NAMES.filter((name) => name !== 'none'));

  test('inject writes every format', () => {
    assert.deepEqual(Object.keys(inject(all, SAMPLED_SPAN)).sort(), [
      'b3',
      'context-globals',
      'ot-tracer-sampled',
      'ot-tracer-spanid',
      'ot-tracer-traceid',
      'traceparent',
      'uber-trace-id',
      'x-amzn-trace-id',
      'x-b3-sampled',
      'x-b3-spanid',
      'x-b3-traceid',
      'x-cloud-trace-context',
      'x-kontur-trace-id',
    ]);
  });

  test('a getter that throws leaves the context unchanged', () => {
    const throwingGetter: TextMapGetter = {
      get() {
        throw new Error('getter failed');
      },
      keys() {
        throw new Error('keys failed');
      },
    };
    assert.equal(all.extract(ROOT_CONTEXT, {}, throwingGetter), ROOT_CONTEXT);
  });

  test('uppercase ids accepted by upstream B3 come out lowercase', () => {
    const context = extract(createPropagator(['b3multi']), { 'x-b3-traceid': TRACE_ID.toUpperCase(), 'x-b3-spanid': SPAN_ID.toUpperCase() });
    const spanContext = trace.getSpanContext(context);
    assert.equal(spanContext?.traceId, TRACE_ID);
    assert.equal(spanContext?.spanId, SPAN_ID);
  });
});

describe('a trace id carried across formats', () => {
  test('W3C -> kontur -> vostok -> W3C keeps the trace id', () => {
    const w3c = createPropagator(['tracecontext']);
    const kontur = createPropagator(['kontur']);
    const vostok = createPropagator(['vostok']);

    const fromW3c = extract(w3c, { traceparent: TRACEPARENT });
    const konturHeaders = inject(kontur, fromW3c);
    assert.deepEqual(konturHeaders, { 'x-kontur-trace-id': TRACE_ID });

    const fromKontur = extract(kontur, konturHeaders);
    const vostokHeaders = inject(vostok, fromKontur);
    const fromVostok = extract(vostok, vostokHeaders);
    const spanFromKontur = trace.getSpanContext(fromKontur) as SpanContext;
    assert.equal(trace.getSpanContext(fromVostok)?.spanId, spanFromKontur.spanId);

    const w3cHeaders = inject(w3c, fromVostok);
    assert.equal(w3cHeaders['traceparent'], `00-${TRACE_ID}-${spanFromKontur.spanId}-01`);
    assert.equal(trace.getSpanContext(extract(w3c, w3cHeaders))?.traceId, TRACE_ID);
  });
});
