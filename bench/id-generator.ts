/**
 * `node bench/id-generator.ts`: the cost of a span's ids (one span id and one
 * trace id, as a root span draws) from the SDK's RandomIdGenerator and from
 * ours. A micro-benchmark, kept apart from the tests: timings are not asserted.
 */
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace';
import { PooledRandomIdGenerator } from '../src/pooled-random-id-generator.ts';

const ITERATIONS = 2_000_000;
const ROUNDS = 7;
const generators: Record<string, () => IdGenerator> = {
  'SDK RandomIdGenerator': () => new RandomIdGenerator(),
  PooledRandomIdGenerator: () => new PooledRandomIdGenerator(),
};

let sink = 0;
function nanosPerSpan(generator: IdGenerator): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) sink += generator.generateTraceId().length + generator.generateSpanId().length;
  return Number(process.hrtime.bigint() - started) / ITERATIONS;
}

const results: Record<string, number[]> = {};
for (const name of Object.keys(generators)) results[name] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternating, so a noisy neighbour hits both alike; the first round warms up the JIT.
  for (const [name, make] of Object.entries(generators)) {
    const ns = nanosPerSpan(make());
    if (round > 0) results[name]!.push(ns);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of Object.entries(results)) {
  console.log(`${name.padEnd(24)} ${median(values).toFixed(0).padStart(5)} ns per trace id + span id (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}, ${ROUNDS - 1} rounds of ${ITERATIONS.toLocaleString('en')})`);
}
if (sink === 0) console.log('');
