import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { TraceContextPropagator } from '../../../src/propagators/tracecontext.ts';

// Cases follow the W3C conformance suite (github w3c/trace-context, test/test.py).
const TRACE_ID = '12345678901234567890123456789012';
const SPAN_ID = '1234567890123456';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

const propagator = new TraceContextPropagator();

function extract(headers: Record<string, unknown>): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
}

function inject(spanContext: SpanContext, context = ROOT_CONTEXT): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(context, spanContext), carrier, defaultTextMapSetter);
  return carrier;
}

describe('traceparent that is accepted', () => {
  const cases: { name: string; traceparent: unknown; traceFlags: number }[] = [
    { name: 'a sampled version 00 header', traceparent: VALID, traceFlags: 1 },
    { name: 'a not sampled version 00 header', traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, traceFlags: 0 },
    { name: 'the Level 2 random flag with sampled', traceparent: `00-${TRACE_ID}-${SPAN_ID}-03`, traceFlags: 3 },
    { name: 'the Level 2 random flag alone', traceparent: `00-${TRACE_ID}-${SPAN_ID}-02`, traceFlags: 2 },
    { name: 'undefined flags, which are dropped', traceparent: `00-${TRACE_ID}-${SPAN_ID}-ff`, traceFlags: 3 },
    { name: 'a leading space', traceparent: ` ${VALID}`, traceFlags: 1 },
    { name: 'a leading tab', traceparent: `\t${VALID}`, traceFlags: 1 },
    { name: 'a trailing space', traceparent: `${VALID} `, traceFlags: 1 },
    { name: 'a trailing tab', traceparent: `${VALID}\t`, traceFlags: 1 },
    { name: 'tabs and spaces on both sides', traceparent: `\t ${VALID} \t`, traceFlags: 1 },
    { name: 'future version cc with four fields', traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01`, traceFlags: 1 },
    { name: 'future version cc with more fields', traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like`, traceFlags: 1 },
    { name: 'future version fe with an empty fifth field', traceparent: `fe-${TRACE_ID}-${SPAN_ID}-00-`, traceFlags: 0 },
    { name: 'an array of one value', traceparent: [VALID], traceFlags: 1 },
  ];
  for (const { name, traceparent, traceFlags } of cases) {
    test(name, () => {
      assert.deepEqual(extract({ traceparent }), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags, isRemote: true });
    });
  }
});

describe('traceparent that is rejected', () => {
  const cases: { name: string; traceparent: unknown }[] = [
    { name: 'version ff', traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'version 00 with a trailing character', traceparent: `${VALID}.` },
    { name: 'version 00 with a fifth field', traceparent: `${VALID}-what-the-future-will-be-like` },
    { name: 'a future version whose flags are not followed by a dash', traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01.what-the-future-will-be-like` },
    { name: 'an illegal first version character', traceparent: `.0-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'an illegal second version character', traceparent: `0.-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'a three-digit version', traceparent: `000-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'a four-digit version', traceparent: `0000-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'a one-digit version', traceparent: `0-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'an uppercase version', traceparent: `CC-${TRACE_ID}-${SPAN_ID}-01` },
    { name: 'an all-zero trace id', traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` },
    { name: 'an illegal first trace id character', traceparent: `00-.2345678901234567890123456789012-${SPAN_ID}-01` },
    { name: 'an illegal last trace id character', traceparent: `00-1234567890123456789012345678901.-${SPAN_ID}-01` },
    { name: 'a 33-digit trace id', traceparent: `00-${TRACE_ID}3-${SPAN_ID}-01` },
    { name: 'a 31-digit trace id', traceparent: `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01` },
    { name: 'an uppercase trace id', traceparent: `00-ABCDEF78901234567890123456789012-${SPAN_ID}-01` },
    { name: 'an all-zero parent id', traceparent: `00-${TRACE_ID}-0000000000000000-01` },
    { name: 'an illegal first parent id character', traceparent: `00-${TRACE_ID}-.234567890123456-01` },
    { name: 'an illegal last parent id character', traceparent: `00-${TRACE_ID}-123456789012345.-01` },
    { name: 'a 17-digit parent id', traceparent: `00-${TRACE_ID}-${SPAN_ID}7-01` },
    { name: 'a 15-digit parent id', traceparent: `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01` },
    { name: 'an uppercase parent id', traceparent: `00-${TRACE_ID}-ABCDEF7890123456-01` },
    { name: 'an illegal first flags character', traceparent: `00-${TRACE_ID}-${SPAN_ID}-.0` },
    { name: 'an illegal second flags character', traceparent: `00-${TRACE_ID}-${SPAN_ID}-0.` },
    { name: 'three-digit flags', traceparent: `00-${TRACE_ID}-${SPAN_ID}-001` },
    { name: 'one-digit flags', traceparent: `00-${TRACE_ID}-${SPAN_ID}-1` },
    { name: 'uppercase flags', traceparent: `00-${TRACE_ID}-${SPAN_ID}-0A` },
    { name: 'a newline inside', traceparent: `00-${TRACE_ID}-${SPAN_ID}-01\n` },
    { name: 'two traceparent headers', traceparent: [`00-12345678901234567890123456789011-${SPAN_ID}-01`, VALID] },
    { name: 'an empty array', traceparent: [] },
    { name: 'an empty value', traceparent: '' },
    { name: 'a number', traceparent: 42 },
    { name: 'an array holding a number', traceparent: [42] },
  ];
  for (const { name, traceparent } of cases) {
    test(name, () => {
      assert.equal(extract({ traceparent, tracestate: 'foo=1' }), undefined);
    });
  }

  test('wrong header names are not read', () => {
    assert.equal(extract({ 'trace-parent': VALID }), undefined);
    assert.equal(extract({ 'trace.parent': VALID }), undefined);
  });

  test('tracestate without traceparent gives no context', () => {
    assert.equal(extract({ tracestate: 'foo=1,bar=2' }), undefined);
  });
});

const MEMBERS_1_TO_32 = Array.from({ length: 32 }, (_, i) => `bar${String(i + 1).padStart(2, '0')}=${String(i + 1).padStart(2, '0')}`);
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
const VALUE_CHARS = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i))
  .filter((c) => c !== ',' && c !== '=')
  .join('');

describe('tracestate', () => {
  // expected: the serialized tracestate, or undefined when it must be dropped.
  const cases: { name: string; tracestate: unknown; expected: string | undefined }[] = [
    { name: 'two members are kept in order', tracestate: 'foo=1,bar=2', expected: 'foo=1,bar=2' },
    {
      name: 'several headers are combined in order',
      tracestate: ['foo=1,bar=2', 'rojo=1,congo=2', 'baz=3'],
      expected: 'foo=1,bar=2,rojo=1,congo=2,baz=3',
    },
    { name: 'an empty header is discarded', tracestate: '', expected: undefined },
    { name: 'an empty second header is ignored', tracestate: ['foo=1', ''], expected: 'foo=1' },
    { name: 'an empty first header is ignored', tracestate: ['', 'foo=1'], expected: 'foo=1' },
    { name: 'empty members are skipped', tracestate: ',foo=1,, ,\t,bar=2,', expected: 'foo=1,bar=2' },
    { name: 'a whitespace-only header is discarded', tracestate: ' \t , ', expected: undefined },
    // Duplicated keys: the list is inherited, the first (left-most) member of a key kept.
    { name: 'a duplicated key keeps the list, once', tracestate: 'foo=1,foo=1', expected: 'foo=1' },
    { name: 'a duplicated key with another value keeps the first', tracestate: 'foo=1,foo=2', expected: 'foo=1' },
    { name: 'a key duplicated across headers is kept once', tracestate: ['foo=1', 'foo=1'], expected: 'foo=1' },
    { name: 'a key duplicated across headers with another value keeps the first', tracestate: ['foo=1', 'foo=2'], expected: 'foo=1' },
    { name: 'other members around a duplicate keep their order', tracestate: 'a=1,foo=1,b=2,foo=2,c=3', expected: 'a=1,foo=1,b=2,c=3' },
    { name: 'a duplicated new-grammar key', tracestate: 'foo@=1,bar=2,foo@=3', expected: 'foo@=1,bar=2' },
    { name: 'all legal key and value characters', tracestate: `${KEY_CHARS}=${VALUE_CHARS}`, expected: `${KEY_CHARS}=${VALUE_CHARS}` },
    {
      name: 'all legal characters in a vendor key',
      tracestate: `${KEY_CHARS}@a-z0-9_-*/=${VALUE_CHARS}`,
      expected: `${KEY_CHARS}@a-z0-9_-*/=${VALUE_CHARS}`,
    },
    { name: 'a key starting with a digit, with every key character', tracestate: `0${KEY_CHARS}@=1`, expected: `0${KEY_CHARS}@=1` },
    { name: 'OWS around commas', tracestate: 'foo=1 \t , \t bar=2, \t baz=3', expected: 'foo=1,bar=2,baz=3' },
    { name: 'tabs and spaces around commas', tracestate: 'foo=1\t \t,\t \tbar=2,\t \tbaz=3', expected: 'foo=1,bar=2,baz=3' },
    { name: 'a leading space', tracestate: ' foo=1', expected: 'foo=1' },
    { name: 'a leading tab', tracestate: '\tfoo=1', expected: 'foo=1' },
    { name: 'a trailing space', tracestate: 'foo=1 ', expected: 'foo=1' },
    { name: 'a trailing tab', tracestate: 'foo=1\t', expected: 'foo=1' },
    { name: 'OWS on both sides', tracestate: '\t foo=1 \t', expected: 'foo=1' },
    { name: 'a value with inner and leading spaces', tracestate: 'foo= a b', expected: 'foo= a b' },
    { name: 'a space in a key drops the header', tracestate: 'foo =1', expected: undefined },
    { name: 'an uppercase key drops the header', tracestate: 'FOO=1', expected: undefined },
    { name: 'a dot in a key drops the header', tracestate: 'foo.bar=1', expected: undefined },
    // key = ( lcalpha / DIGIT ) 0*255 ( keychar ); keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
    { name: 'a key may start with a digit', tracestate: '1foo=1', expected: '1foo=1' },
    { name: 'a key may be one digit', tracestate: '7=1', expected: '7=1' },
    { name: 'a tenant@system key', tracestate: '1tenant@system=1', expected: '1tenant@system=1' },
    { name: 'a key ending in an at sign', tracestate: 'foo@=1,bar=2', expected: 'foo@=1,bar=2' },
    { name: 'two at signs in a row', tracestate: 'foo@@bar=1,bar=2', expected: 'foo@@bar=1,bar=2' },
    { name: 'two at signs', tracestate: 'foo@bar@baz=1,bar=2', expected: 'foo@bar@baz=1,bar=2' },
    { name: 'a digit after the at sign', tracestate: 'foo@1bar=1', expected: 'foo@1bar=1' },
    { name: 'special characters after the at sign', tracestate: 'a@_-*/@=1', expected: 'a@_-*/@=1' },
    { name: 'a key starting with an at sign drops the header', tracestate: '@foo=1,bar=2', expected: undefined },
    { name: 'a key starting with an underscore drops the header', tracestate: '_foo=1,bar=2', expected: undefined },
    { name: 'a key starting with a dash drops the header', tracestate: '-foo=1', expected: undefined },
    { name: 'a key that is only an at sign drops the header', tracestate: '@=1', expected: undefined },
    { name: 'an empty key drops the header', tracestate: '=1,bar=2', expected: undefined },
    { name: 'an uppercase letter after the at sign drops the header', tracestate: 'foo@Bar=1', expected: undefined },
    { name: '32 members over four headers are kept', tracestate: splitInto(MEMBERS_1_TO_32, [10, 10, 10, 2]), expected: MEMBERS_1_TO_32.join(',') },
    { name: '33 members drop the header', tracestate: splitInto([...MEMBERS_1_TO_32, 'bar33=33'], [10, 10, 10, 3]), expected: undefined },
    {
      name: '32 members among many empty ones are kept',
      tracestate: MEMBERS_1_TO_32.join(',,, '),
      expected: MEMBERS_1_TO_32.join(','),
    },
    { name: 'a 256-character key', tracestate: ['foo=1', `${'z'.repeat(256)}=1`], expected: `foo=1,${'z'.repeat(256)}=1` },
    { name: 'a 257-character key drops the header', tracestate: ['foo=1', `${'z'.repeat(257)}=1`], expected: undefined },
    {
      name: 'a 241-character tenant and a 14-character system',
      tracestate: ['foo=1', `${'t'.repeat(241)}@${'v'.repeat(14)}=1`],
      expected: `foo=1,${'t'.repeat(241)}@${'v'.repeat(14)}=1`,
    },
    { name: 'a 242-character tenant', tracestate: ['foo=1', `${'t'.repeat(242)}@v=1`], expected: `foo=1,${'t'.repeat(242)}@v=1` },
    { name: 'a 15-character system', tracestate: ['foo=1', `t@${'v'.repeat(15)}=1`], expected: `foo=1,t@${'v'.repeat(15)}=1` },
    { name: 'a 256-character key ending in an at sign', tracestate: ['foo=1', `${'t'.repeat(255)}@=1`], expected: `foo=1,${'t'.repeat(255)}@=1` },
    { name: 'a 256-character key with at signs', tracestate: `${'a@'.repeat(128)}=1`, expected: `${'a@'.repeat(128)}=1` },
    { name: 'a 257-character key with an at sign drops the header', tracestate: ['foo=1', `${'t'.repeat(128)}@${'v'.repeat(128)}=1`], expected: undefined },
    // Over 512 characters: whole entries go, those over 128 characters first, then from the end.
    { name: '512 characters are kept whole', tracestate: [m('a', 128), m('b', 127), m('c', 127), m('d', 127)], expected: [m('a', 128), m('b', 127), m('c', 127), m('d', 127)].join(',') },
    { name: '513 characters lose the entry over 128 characters', tracestate: [m('a', 100), m('long', 200), m('b', 100), m('c', 110)].join(','), expected: [m('a', 100), m('b', 100), m('c', 110)].join(',') },
    { name: 'the right-most long entry goes first, and only as many as needed', tracestate: [m('l1', 200), m('s1', 100), m('l2', 200), m('s2', 100)].join(','), expected: [m('l1', 200), m('s1', 100), m('s2', 100)].join(',') },
    { name: 'without long entries, entries go from the end', tracestate: ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => m(key, 100)).join(','), expected: ['a', 'b', 'c', 'd', 'e'].map((key) => m(key, 100)).join(',') },
    { name: 'long entries, then from the end', tracestate: [m('a', 129), m('b', 128), m('c', 128), m('d', 128), m('e', 128)].join(','), expected: [m('b', 128), m('c', 128), m('d', 128)].join(',') },
    { name: 'OWS and empty members do not count toward 512', tracestate: [m('a', 128), m('b', 127), m('c', 127), m('d', 127)].join(' \t,, '), expected: [m('a', 128), m('b', 127), m('c', 127), m('d', 127)].join(',') },
    { name: 'a 256-character value', tracestate: `foo=${'x'.repeat(256)}`, expected: `foo=${'x'.repeat(256)}` },
    { name: 'a 257-character value drops the header', tracestate: `foo=${'x'.repeat(257)}`, expected: undefined },
    { name: 'an equals sign in a value drops the header', tracestate: 'foo=bar=baz', expected: undefined },
    { name: 'an empty value drops the header', tracestate: 'foo=,bar=3', expected: undefined },
    { name: 'a member without equals sign drops the header', tracestate: 'foo,bar=3', expected: undefined },
    { name: 'a non-ASCII value drops the header', tracestate: 'foo=é', expected: undefined },
    { name: 'a DEL character drops the header', tracestate: 'foo=a\x7f', expected: undefined },
    { name: 'a newline in a value drops the header', tracestate: 'foo=a\nb', expected: undefined },
    { name: 'an array holding a number drops the header', tracestate: ['foo=1', 5], expected: undefined },
    { name: 'a number is not a header', tracestate: 7, expected: undefined },
  ];
  for (const { name, tracestate, expected } of cases) {
    test(name, () => {
      const spanContext = extract({ traceparent: VALID, tracestate });
      assert.equal(spanContext?.traceId, TRACE_ID, 'an invalid tracestate never costs the traceparent');
      assert.equal(spanContext.traceState?.serialize(), expected);
    });
  }

  test('members can be read by key', () => {
    const traceState = extract({ traceparent: VALID, tracestate: 'foo=1,bar=2' })?.traceState;
    assert.equal(traceState?.get('foo'), '1');
    assert.equal(traceState?.get('bar'), '2');
  });
});

describe('inject', () => {
  const cases: { name: string; spanContext: SpanContext; expected: Record<string, string> }[] = [
    {
      name: 'a sampled span',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED },
      expected: { traceparent: VALID },
    },
    {
      name: 'a span that is not sampled',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE },
      expected: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` },
    },
    {
      name: 'the random flag is kept',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x03 },
      expected: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-03` },
    },
    {
      name: 'undefined flags are not sent',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xfd },
      expected: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
    },
    {
      name: 'a tracestate is sent with it',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, traceState: new TraceState('foo=1,bar=2') },
      expected: { traceparent: VALID, tracestate: 'foo=1,bar=2' },
    },
    {
      name: 'an empty tracestate is not sent',
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, traceState: new TraceState('') },
      expected: { traceparent: VALID },
    },
    {
      name: 'an invalid span context writes nothing',
      spanContext: { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: 1 },
      expected: {},
    },
  ];
  for (const { name, spanContext, expected } of cases) {
    test(name, () => {
      assert.deepEqual(inject(spanContext), expected);
    });
  }

  test('suppressed tracing writes nothing', () => {
    assert.deepEqual(inject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }, suppressTracing(ROOT_CONTEXT)), {});
  });

  test('an extracted context is sent on unchanged', () => {
    const headers = { traceparent: `00-${TRACE_ID}-${SPAN_ID}-03`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' };
    const context = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, headers);
  });

  test('new-grammar keys and duplicates: the inherited list goes on, each key once', () => {
    const context = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-02`, tracestate: ['foo@=1,bar=2', 'foo@=3,t@v=4'] }, defaultTextMapGetter);
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-02`, tracestate: 'foo@=1,bar=2,t@v=4' });
  });

  test('fields are traceparent and tracestate', () => {
    assert.deepEqual(propagator.fields(), ['traceparent', 'tracestate']);
  });
});

/** One list member of `length` characters: `key=xxx…`. */
function m(key: string, length: number): string {
  return `${key}=${'x'.repeat(length - key.length - 1)}`;
}

function splitInto(members: readonly string[], sizes: readonly number[]): string[] {
  const headers: string[] = [];
  let start = 0;
  for (const size of sizes) {
    headers.push(members.slice(start, start + size).join(','));
    start += size;
  }
  return headers;
}
