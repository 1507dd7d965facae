import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const GUARD_URL = pathToFileURL(path.join(REPO_ROOT, 'src', 'instrumentations', 'parentless-require-guard.ts')).href;

/**
 * Module hooks are process-wide, so each case runs in a fresh node: it installs
 * import-in-the-middle's synchronous hooks (guarded or not), then requires a
 * builtin and a JSON file with no parent module, as `node -e` and
 * Module._load(x, null) do, and ESM-imports http (which import-in-the-middle
 * must still wrap: its Hook sees the module).
 */
function loadWithoutParent(guarded: boolean) {
  const script = `
    import Module, { createRequire } from 'node:module';
    import { registerWithParentlessRequireGuard } from ${JSON.stringify(GUARD_URL)};
    const require = createRequire(${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'package.json')).href)});
    const { register } = require('import-in-the-middle/register-hooks.mjs');
    const { Hook } = require('import-in-the-middle');
    const registerIitm = () => register({ include: ['http', 'node:http'] });
    if (${guarded}) registerWithParentlessRequireGuard(registerIitm); else registerIitm();
    let hooked = false;
    new Hook(['http'], (exported) => { hooked = true; return exported; });
    const result = { hookedHttpImport: false };
    for (const [name, load] of [['builtin', () => typeof Module._load('os', null).EOL], ['json', () => Module._load(${JSON.stringify(path.join(REPO_ROOT, 'package.json'))}, null).name]]) {
      try { result[name] = load(); } catch (error) { result[name] = error.code ?? error.name; }
    }
    await import('node:http');
    result.hookedHttpImport = hooked;
    console.log(JSON.stringify(result));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { builtin: string; json: string; hookedHttpImport: boolean };
}

describe('registerWithParentlessRequireGuard', () => {
  it('a builtin and a JSON file required with no parent load as they do without hooks, and ESM imports are still wrapped', () => {
    assert.deepEqual(loadWithoutParent(true), { builtin: 'string', json: '@acme/otel-register', hookedHttpImport: true });
  });

  it('is still needed: import-in-the-middle alone breaks both (when this fails, upstream is fixed: remove the guard)', () => {
    assert.deepEqual(loadWithoutParent(false), { builtin: 'ENOENT', json: 'SyntaxError', hookedHttpImport: true });
  });
});
