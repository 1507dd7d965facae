import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 64 * 1024;
const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;

/**
 * Trace and span ids cut from a pool of random bytes: one
 * `crypto.randomFillSync` per 64 KB (about 2,700 spans with their trace ids)
 * instead of a Math.random() call per 4 bytes, and the hex string built once
 * per id, straight from the pool. Every byte is drawn from the CSPRNG, so ids
 * are uniform; an all-zero id (invalid in W3C Trace Context) is drawn again
 * rather than patched, which keeps them uniform over the valid ids. Each pool
 * byte is handed out once: the offset moves past an id before it is returned,
 * and the pool is refilled only when fewer bytes remain than the next id needs.
 *
 * All 16 bytes of a trace id are random, so the W3C random-trace-id flag
 * holds for the traces it starts (see random-trace-id-flag.ts).
 */
export class PooledRandomIdGenerator implements IdGenerator {
  /** Read by RandomTraceIdFlagTracerProvider: trace ids from this generator are random. */
  readonly traceIdsAreRandom = true;
  readonly #pool: Buffer;
  readonly #fill: (pool: Buffer) => void;
  #offset: number;

  /** The options are for tests: a pool must hold a trace id, and `fill` stands in for the CSPRNG. */
  constructor({ poolBytes = POOL_BYTES, fill = randomFillSync }: { poolBytes?: number; fill?: (pool: Buffer) => void } = {}) {
    if (poolBytes < TRACE_ID_BYTES) throw new RangeError(`the pool must hold at least one trace id (${TRACE_ID_BYTES} bytes)`);
    this.#pool = Buffer.alloc(poolBytes);
    this.#fill = fill;
    // Filled on first use: a process that never starts a span pays nothing.
    this.#offset = poolBytes;
  }

  generateTraceId(): string {
    return this.#nextId(TRACE_ID_BYTES);
  }

  generateSpanId(): string {
    return this.#nextId(SPAN_ID_BYTES);
  }

  #nextId(bytes: number): string {
    for (;;) {
      if (this.#offset + bytes > this.#pool.length) this.#refill();
      const start = this.#offset;
      this.#offset = start + bytes;
      if (!isAllZero(this.#pool, start, start + bytes)) return this.#pool.toString('hex', start, start + bytes);
    }
  }

  #refill(): void {
    this.#fill(this.#pool);
    this.#offset = 0;
  }
}

function isAllZero(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
