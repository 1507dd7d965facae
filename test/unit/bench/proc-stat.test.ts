import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { busyFraction, parseCoreTicks, parseProcessCpuTicks } from '../../../bench/proc-stat.ts';

describe('/proc/<pid>/stat: a process CPU time', () => {
  const tail = 'S 1 2 3 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 11 0 12345 1000000 5000 18446744073709551615';
  test('utime + stime', () => {
    assert.equal(parseProcessCpuTicks(`4242 (node) ${tail}`), 325);
  });
  test('a command name with spaces and parentheses does not shift the fields', () => {
    assert.equal(parseProcessCpuTicks(`4242 (my (odd) name ) ${tail}`), 325);
  });
  test('a truncated line is unreadable', () => {
    assert.equal(parseProcessCpuTicks('4242 (node) S 1 2 3'), undefined);
    assert.equal(parseProcessCpuTicks(''), undefined);
  });
  test('this process has spent some CPU time, and it grows', () => {
    const read = () => parseProcessCpuTicks(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))!;
    const before = read();
    const until = Date.now() + 50;
    while (Date.now() < until); // burn 50 ms, 5 ticks
    assert.ok(read() > before);
  });
});

describe('/proc/stat: how busy one core was', () => {
  const stat = ['cpu  300 0 200 900 10 0 5 3 0 0', 'cpu0 100 0 50 400 4 0 2 1 0 0', 'cpu1 200 0 150 500 6 0 3 2 0 0', 'intr 1 2 3', ''].join('\n');
  test('busy = everything but idle and iowait', () => {
    assert.deepEqual(parseCoreTicks(stat, 0), { total: 557, busy: 153 });
    assert.deepEqual(parseCoreTicks(stat, 1), { total: 861, busy: 355 });
  });
  test('the aggregate "cpu" line is not core 0, and a missing core is undefined', () => {
    assert.equal(parseCoreTicks(stat, 2), undefined);
    assert.equal(parseCoreTicks('cpu  1 2 3 4', 0), undefined);
  });
  test('busy fraction between two readings', () => {
    assert.equal(busyFraction({ total: 1000, busy: 100 }, { total: 1200, busy: 250 }), 0.75);
    assert.equal(busyFraction({ total: 1000, busy: 100 }, { total: 1000, busy: 100 }), 0);
  });
});
