import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countTracesV04, countTracesV05 } from '../../../bench/msgpack-trace-count.ts';

// A tiny msgpack writer for the shapes the agent receives: arrays, strings, small maps of small ints.
function arrayHeader(length: number): number[] {
  if (length < 16) return [0x90 | length];
  if (length < 0x10000) return [0xdc, length >> 8, length & 0xff];
  return [0xdd, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}
function str(text: string): number[] {
  const bytes = [...Buffer.from(text)];
  const n = bytes.length;
  if (n < 32) return [0xa0 | n, ...bytes];
  if (n < 0x100) return [0xd9, n, ...bytes];
  if (n < 0x10000) return [0xda, n >> 8, n & 0xff, ...bytes];
  return [0xdb, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, ...bytes];
}
const span = (id: number): number[] => [0x82, ...str('span_id'), id & 0x7f, ...str('name'), ...str('web.request')];
const trace = (spans: number): number[] => [...arrayHeader(spans), ...Array.from({ length: spans }, (_, i) => span(i)).flat()];
const v04 = (traces: number): Uint8Array => Uint8Array.from([...arrayHeader(traces), ...Array.from({ length: traces }, () => trace(2)).flat()]);
const v05 = (strings: string[], traces: number): Uint8Array =>
  Uint8Array.from([...arrayHeader(2), ...arrayHeader(strings.length), ...strings.flatMap(str), ...arrayHeader(traces), ...Array.from({ length: traces }, () => [...arrayHeader(1), ...arrayHeader(0)]).flat()]);

describe('counting the traces of a dd-trace agent payload', () => {
  for (const traces of [0, 1, 15, 16, 300, 65_535, 65_536]) {
    test(`v0.4: ${traces} traces (fixarray, array16 and array32 headers)`, () => {
      // Big counts: only the header matters to the reader, so no need to write them all out.
      const body = traces > 300 ? Uint8Array.from(arrayHeader(traces)) : v04(traces);
      assert.equal(countTracesV04(body), traces);
    });
  }

  test('v0.5: the traces array after a string table of fixstr, str8, str16 and str32 strings', () => {
    const strings = ['', 'web.request', 'é'.repeat(40), 'x'.repeat(300), 'y'.repeat(70_000)];
    assert.equal(countTracesV05(v05(strings, 3)), 3);
    assert.equal(countTracesV05(v05([], 17)), 17);
  });

  test('a body of another shape is unreadable, not a count', () => {
    assert.equal(countTracesV04(new Uint8Array()), undefined);
    assert.equal(countTracesV04(Uint8Array.from([0x80])), undefined, 'a map');
    assert.equal(countTracesV04(Uint8Array.from([0xdc, 0x01])), undefined, 'a truncated array16 header');
    assert.equal(countTracesV05(v04(2)), undefined, 'a v0.4 body on the v0.5 path');
    assert.equal(countTracesV05(Uint8Array.from([0x92, 0x91, 0xa5, 0x61])), undefined, 'a string running past the body');
    assert.equal(countTracesV05(Uint8Array.from([0x92, 0x91, 0x01, 0x90])), undefined, 'a string table holding a number');
  });
});
