import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseWrkOutput } from '../../../bench/wrk-output.ts';

const output = (p99: string, extra = '') => `Running 10s test @ http://127.0.0.1:35567/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    19.69ms   35.77ms 296.79ms   88.96%
    Req/Sec     7.92k     5.75k   29.81k    75.28%
  Latency Distribution
     50%    4.47ms
     75%   20.58ms
     90%   60.02ms
     99%  ${p99}
  74662 requests in 10.01s, 11.39MB read
${extra}Requests/sec:   7455.77
Transfer/sec:      1.14MB
`;

describe("reading wrk's output", () => {
  test('requests, req/s and p99 (wrk 4.1 --latency, as printed)', () => {
    assert.deepEqual(parseWrkOutput(output('174.30ms')), { requests: 74662, reqPerSec: 7455.77, p99Ms: 174.3, errors: 0 });
  });
  test('p99 in every unit wrk prints', () => {
    assert.equal(parseWrkOutput(output('850.00us'))?.p99Ms, 0.85);
    assert.equal(parseWrkOutput(output('1.20s'))?.p99Ms, 1200);
    assert.equal(parseWrkOutput(output('2.00m'))?.p99Ms, 120_000);
  });
  test('socket errors and non-2xx responses are errors', () => {
    const extra = '  Socket errors: connect 1, read 2, write 0, timeout 4\n  Non-2xx or 3xx responses: 10\n';
    assert.equal(parseWrkOutput(output('3.00ms', extra))?.errors, 17);
  });
  test('output without a latency distribution (no --latency) or a run that failed is unreadable', () => {
    assert.equal(parseWrkOutput(output('3.00ms').replace(/^\s*99%.*$/m, '')), undefined);
    assert.equal(parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), undefined);
  });
});
