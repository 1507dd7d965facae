/**
 * The oldest Node we support (MINIMUM_NODE_VERSION), for the tests that must
 * run there: installed from the npm registry's `node` package into the test
 * work dir on first use. Not a devDependency: two `node` packages in one
 * node_modules fight over node_modules/.bin/node, which npm scripts run on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MINIMUM_NODE_VERSION } from '../../src/lifecycle/node-version.ts';
import { WORK_DIR } from './app-dir.ts';

export function oldestSupportedNode(): string {
  const version = `${MINIMUM_NODE_VERSION}.0`;
  const dir = path.join(WORK_DIR, `node-${version}`);
  const binary = path.join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, dependencies: { node: version } }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  }
  return binary;
}
