/**
 * The flag is given twice, or NODE_OPTIONS and the command line both carry it,
 * or a CJS and an ESM copy of the package are loaded: one SDK only. A symbol
 * on globalThis is shared by every copy in the process (but not by worker
 * threads, which have their own globals).
 */
const STARTED = Symbol.for('@acme/otel-register.started');

export function claimStart(): boolean {
  const registry = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (registry[STARTED] === true) return false;
  registry[STARTED] = true;
  return true;
}
