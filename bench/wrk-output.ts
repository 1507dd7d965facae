/**
 * Reads what `wrk --latency` prints: requests, req/s, p99 and errors.
 * wrk, a C load generator, costs about half of autocannon's CPU per request,
 * so one core of it outruns a bare Node server on the other.
 */
export interface WrkResult {
  requests: number;
  reqPerSec: number;
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export function parseWrkOutput(text: string): WrkResult | undefined {
  const requests = /^\s*(\d+) requests in /m.exec(text);
  const reqPerSec = /^Requests\/sec:\s*([\d.]+)/m.exec(text);
  const p99 = /^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(text);
  if (!requests || !reqPerSec || !p99) return undefined;
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = (socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { requests: Number(requests[1]), reqPerSec: Number(reqPerSec[1]), p99Ms: Number(p99[1]) * UNIT_MS[p99[2]!]!, errors };
}
