import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PooledRandomIdGenerator } from '../../src/pooled-random-id-generator.ts';

/** A stand-in for the CSPRNG: each fill writes the next bytes of `stream`, then counts up from 1. */
function scriptedFill(stream: number[]): { fill: (pool: Buffer) => void; fills: () => number } {
  let fills = 0;
  let next = 1;
  return {
    fill(pool) {
      fills++;
      for (let i = 0; i < pool.length; i++) pool[i] = stream.length > 0 ? stream.shift()! : (next++ % 255) + 1;
    },
    fills: () => fills,
  };
}

describe('ids from a pool of random bytes', () => {
  test('trace ids are 32 and span ids 16 lowercase hex characters, never all zero', () => {
    const ids = new PooledRandomIdGenerator();
    for (let i = 0; i < 10_000; i++) {
      assert.match(ids.generateTraceId(), /^[0-9a-f]{32}$/);
      assert.match(ids.generateSpanId(), /^[0-9a-f]{16}$/);
    }
  });

  test('an all-zero draw is discarded and drawn again, not patched', () => {
    const scripted = scriptedFill([...new Array(8).fill(0), 0xab, 0, 0, 0, 0, 0, 0, 0, ...new Array(16).fill(0), ...new Array(15).fill(0), 0x01]);
    const ids = new PooledRandomIdGenerator({ poolBytes: 64, fill: scripted.fill });
    assert.equal(ids.generateSpanId(), 'ab00000000000000', 'the zero span id is skipped; a single non-zero byte makes an id valid');
    assert.equal(ids.generateTraceId(), `${'0'.repeat(30)}01`, 'the zero trace id is skipped');
  });

  test('every pool byte is handed out once, and the pool is refilled only when the next id does not fit', () => {
    // 40 bytes: trace (16) + span (8) + trace (16) fit exactly; the next span id needs a refill.
    const stream = Array.from({ length: 80 }, (_, i) => (i % 255) + 1);
    const scripted = scriptedFill([...stream]);
    const ids = new PooledRandomIdGenerator({ poolBytes: 40, fill: scripted.fill });
    const handedOut = [ids.generateTraceId(), ids.generateSpanId(), ids.generateTraceId()].join('');
    assert.equal(scripted.fills(), 1);
    assert.equal(handedOut, Buffer.from(stream.slice(0, 40)).toString('hex'));
    const afterRefill = [ids.generateSpanId(), ids.generateTraceId(), ids.generateSpanId()].join('');
    assert.equal(scripted.fills(), 2);
    assert.equal(afterRefill, Buffer.from(stream.slice(40, 72)).toString('hex'));
    // 8 bytes left: a trace id does not fit, so they are dropped, never reused after the refill.
    ids.generateTraceId();
    assert.equal(scripted.fills(), 3);
  });

  test('the pool is not filled until the first id is asked for', () => {
    const scripted = scriptedFill([]);
    const ids = new PooledRandomIdGenerator({ poolBytes: 64, fill: scripted.fill });
    assert.equal(scripted.fills(), 0);
    ids.generateSpanId();
    assert.equal(scripted.fills(), 1);
  });

  test('a pool too small for a trace id is refused', () => {
    assert.throws(() => new PooledRandomIdGenerator({ poolBytes: 15 }), RangeError);
  });

  test('ids are uniform: every hex digit at every position, in the expected proportion (chi-square), and no repeats', () => {
    // Across several refills of the real 64 KB pool (20,000 trace ids = 320 KB).
    const ids = new PooledRandomIdGenerator();
    const counts = Array.from({ length: 32 }, () => new Array<number>(16).fill(0));
    const seen = new Set<string>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const id = ids.generateTraceId();
      seen.add(id);
      for (let position = 0; position < 32; position++) counts[position]![Number.parseInt(id[position]!, 16)]!++;
    }
    assert.equal(seen.size, n);
    const expected = n / 16;
    const chiSquares = counts.map((perDigit) => perDigit.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0));
    // 15 degrees of freedom: P(chi2 > 60) is about 2e-7 per position, so this fails by chance less than once in 100,000 runs.
    for (const [position, chiSquare] of chiSquares.entries()) assert.ok(chiSquare < 60, `position ${position}: chi-square ${chiSquare.toFixed(1)}`);
    // And overall, the spread of the 32 statistics matches 15 degrees of freedom (mean 15).
    const mean = chiSquares.reduce((a, b) => a + b, 0) / chiSquares.length;
    assert.ok(mean > 10 && mean < 20, `mean chi-square ${mean.toFixed(1)}`);
  });
});
