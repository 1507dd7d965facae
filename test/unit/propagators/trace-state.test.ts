import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { W3CTraceState } from '../../../src/propagators/trace-state.ts';

// Parsing is covered through the propagator in tracecontext.test.ts; here: the mutations a sampler or vendor makes.
function parse(header: string): W3CTraceState {
  const traceState = W3CTraceState.parse(header);
  assert.ok(traceState, header);
  return traceState;
}

/** One list member of `length` characters: `key=xxx…`. */
function m(key: string, length: number): string {
  return `${key}=${'x'.repeat(length - key.length - 1)}`;
}

describe('W3CTraceState', () => {
  const cases: { name: string; start: string; change: (state: W3CTraceState) => unknown; expected: string }[] = [
    { name: 'set adds a new key on the left', start: 'a=1,b=2', change: (s) => s.set('c', '3'), expected: 'c=3,a=1,b=2' },
    { name: 'set moves an updated key to the left', start: 'a=1,b=2,c=3', change: (s) => s.set('b', '9'), expected: 'b=9,a=1,c=3' },
    { name: 'set takes a new-grammar key', start: 'a=1', change: (s) => s.set('foo@', 'x'), expected: 'foo@=x,a=1' },
    { name: 'set takes a key with several at signs', start: 'a=1', change: (s) => s.set('t@v@w', 'x'), expected: 't@v@w=x,a=1' },
    { name: 'set ignores an invalid key', start: 'a=1', change: (s) => s.set('@foo', 'x'), expected: 'a=1' },
    { name: 'set ignores an uppercase key', start: 'a=1', change: (s) => s.set('Foo', 'x'), expected: 'a=1' },
    { name: 'set ignores a 257-character key', start: 'a=1', change: (s) => s.set('k'.repeat(257), 'x'), expected: 'a=1' },
    { name: 'set ignores a value with a comma', start: 'a=1', change: (s) => s.set('b', 'x,y'), expected: 'a=1' },
    { name: 'set ignores a value ending in a space', start: 'a=1', change: (s) => s.set('b', 'x '), expected: 'a=1' },
    { name: 'set ignores an empty value', start: 'a=1', change: (s) => s.set('b', ''), expected: 'a=1' },
    {
      name: 'set on 32 members drops the right-most',
      start: Array.from({ length: 32 }, (_, i) => `k${i}=${i}`).join(','),
      change: (s) => s.set('new', 'x'),
      expected: ['new=x', ...Array.from({ length: 31 }, (_, i) => `k${i}=${i}`)].join(','),
    },
    {
      name: 'set past 512 characters truncates the others, long entries first',
      start: [m('a', 100), m('long', 200), m('b', 100), m('c', 100)].join(','),
      change: (s) => s.set('new', 'x'.repeat(100)),
      expected: [`new=${'x'.repeat(100)}`, m('a', 100), m('b', 100), m('c', 100)].join(','),
    },
    {
      name: 'set keeps its member; the long ones go, right to left, until the rest fits',
      start: [m('a', 250), m('b', 200), m('c', 50)].join(','),
      change: (s) => s.set('new', 'x'.repeat(256)),
      expected: [`new=${'x'.repeat(256)}`, m('c', 50)].join(','),
    },
    {
      name: 'set of a 513-character member, longer than any list we send, is refused',
      start: 'a=1',
      change: (s) => s.set('k'.repeat(256), 'x'.repeat(256)),
      expected: 'a=1',
    },
    { name: 'unset removes a key', start: 'a=1,b=2,c=3', change: (s) => s.unset('b'), expected: 'a=1,c=3' },
    { name: 'unset of a missing key changes nothing', start: 'a=1', change: (s) => s.unset('zz'), expected: 'a=1' },
  ];
  for (const { name, start, change, expected } of cases) {
    test(name, () => {
      const before = parse(start);
      const after = change(before) as W3CTraceState;
      assert.equal(after.serialize(), expected);
      assert.equal(before.serialize(), W3CTraceState.parse(start)?.serialize(), 'immutable: the original is unchanged');
    });
  }

  test('get reads new-grammar keys', () => {
    const state = parse('foo@=1,a@b@c=2,0x=3');
    assert.equal(state.get('foo@'), '1');
    assert.equal(state.get('a@b@c'), '2');
    assert.equal(state.get('0x'), '3');
    assert.equal(state.get('missing'), undefined);
  });

  test('get of a duplicated key gives the first value', () => {
    assert.equal(parse('foo=1,bar=2,foo=3').get('foo'), '1');
  });

  test('parse gives nothing for an empty or absent header', () => {
    for (const header of ['', ' , ', undefined, null, [], 5]) assert.equal(W3CTraceState.parse(header), undefined, String(header));
  });
});
