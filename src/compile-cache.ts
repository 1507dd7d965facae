import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * Imported first by start.ts: Node's on-disk compile cache (Node >= 22.1)
 * spares the ~200 files the SDK loads at start-up their compilation on every
 * start after the first. It applies to every module loaded after this point,
 * the app's too, as NODE_COMPILE_CACHE would; NODE_DISABLE_COMPILE_CACHE=1
 * turns it off, and a NODE_COMPILE_CACHE the user set wins.
 */
export function enableCompileCache(): void {
  try {
    const enable = (Module as unknown as { enableCompileCache?: (directory?: string) => unknown }).enableCompileCache;
    enable?.(path.join(os.tmpdir(), 'acme-otel-register-compile-cache'));
  } catch {
    // A read-only or full temp dir costs only the speed-up.
  }
}

enableCompileCache();
