import { lstatSync, mkdirSync } from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';

type CompileCacheApi = { enableCompileCache?: (directory?: string) => unknown; getCompileCacheDir?: () => string | undefined };

/**
 * The folder the compile cache may use: one per user under the temp dir,
 * created 0700. Anything else at that path (another user's folder, a
 * symlink, a folder group or others can write) is refused: V8's code cache is
 * not a security boundary, so code compiled by someone else must never be
 * loaded. One mkdir and one lstat on the start-up path.
 * Without a uid (Windows) there is nothing to check ownership against: no cache.
 */
export function ownCompileCacheDir(tmpdir = os.tmpdir(), uid = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined;
  const directory = path.join(tmpdir, `acme-otel-register-compile-cache-${uid}`);
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch {
    // EEXIST is the usual case; anything else shows in the lstat below.
  }
  try {
    const stats = lstatSync(directory);
    const ours = stats.isDirectory() && stats.uid === uid && (stats.mode & 0o022) === 0;
    return ours ? directory : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Imported first by start.ts: Node's on-disk compile cache (Node >= 22.1)
 * spares the ~200 files the SDK loads at start-up their compilation on every
 * start after the first. It applies to every module loaded after this point,
 * the app's too, as NODE_COMPILE_CACHE would; NODE_DISABLE_COMPILE_CACHE=1
 * turns it off, and a NODE_COMPILE_CACHE the user set wins.
 */
export function enableCompileCache(): void {
  try {
    const api = Module as unknown as CompileCacheApi;
    if (api.enableCompileCache === undefined || api.getCompileCacheDir?.() !== undefined) return;
    const directory = ownCompileCacheDir();
    // Not ours: run without it (a cold start costs only the speed-up).
    if (directory !== undefined) api.enableCompileCache(directory);
  } catch {
    // A read-only or full temp dir costs only the speed-up.
  }
}

enableCompileCache();
