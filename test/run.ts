/**
 * `npm test`: make sure the machine has what the end-to-end tests need
 * (system-packages.ts), pack and install the package like a user, then run
 * every test file with node's own runner (which prints the summary CI reads).
 * Extra arguments are passed on, e.g. `npm test -- test/e2e/sigterm.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import path from 'node:path';
import { APP_DIR, prepareAppDir, REPO_ROOT } from './support/app-dir.ts';
import { NODE_TEST_FLAGS } from './support/runner-flags.ts';
import { ensureSystemPackages } from './support/system-packages.ts';

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : globSync('test/{unit,e2e}/**/*.test.ts', { cwd: REPO_ROOT }).sort();

// Only end-to-end tests start PostgreSQL, Redis or Prometheus: unit runs need none.
if (files.some((file) => path.resolve(REPO_ROOT, file).startsWith(path.join(REPO_ROOT, 'test', 'e2e') + path.sep))) {
  const system = ensureSystemPackages();
  if (!system.ok) {
    console.error(system.line);
    process.exit(1);
  }
}

const started = Date.now();
prepareAppDir();
console.log(`test app installed from the packed tarball in ${APP_DIR} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

const result = spawnSync(
  process.execPath,
  [...NODE_TEST_FLAGS, ...files.map((file) => path.resolve(REPO_ROOT, file))],
  { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '', OTEL_REGISTER_TEST_APP: APP_DIR } },
);
process.exit(result.status ?? 1);
