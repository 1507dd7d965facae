import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/app-dir.ts';
import { ensureSystemPackages, type Machine } from '../../support/system-packages.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'otel-register-system-packages-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let machines = 0;
/** A made-up machine: a bin folder as its whole PATH, a PostgreSQL folder, and the commands it has. */
function machine(options: { isRoot: boolean; commands?: string[]; postgres?: boolean; aptGet?: string }): Machine {
  const root = path.join(scratch, `machine-${machines++}`);
  const bin = path.join(root, 'bin');
  const postgresRoot = path.join(root, 'postgresql');
  mkdirSync(bin, { recursive: true });
  mkdirSync(path.join(postgresRoot, '15', 'bin'), { recursive: true });
  if (options.postgres) writeFileSync(path.join(postgresRoot, '15', 'bin', 'initdb'), '');
  for (const command of options.commands ?? []) executable(path.join(bin, command), '#!/bin/sh\n');
  if (options.aptGet !== undefined) executable(path.join(bin, 'apt-get'), options.aptGet);
  return { path: bin, isRoot: options.isRoot, postgresRoot };
}

function executable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** An apt-get that logs its arguments and "installs" a package by creating the command it provides (its PATH is the made-up one: builtins and /bin only). */
const FAKE_APT_GET = `#!/bin/sh
bin=\${0%/*}
echo "$*" >> "$bin/../apt-get.log"
[ "$DEBIAN_FRONTEND" = noninteractive ] || exit 9
for arg in "$@"; do
  case "$arg" in
    redis-server|prometheus) echo '#!/bin/sh' > "$bin/$arg"; /bin/chmod +x "$bin/$arg" ;;
    postgresql) : > "$bin/../postgresql/15/bin/initdb" ;;
  esac
done
`;

const quiet = () => {};

describe('npm test installs the Debian packages the end-to-end tests need', () => {
  it('nothing to do when PostgreSQL, Redis and Prometheus are there', () => {
    const result = ensureSystemPackages(machine({ isRoot: true, postgres: true, commands: ['redis-server', 'prometheus'], aptGet: 'exit 1' }), undefined, quiet);
    assert.deepEqual(result, { ok: true, installed: [] });
  });

  it('as root with apt-get: installs what is missing, non-interactively, in one apt-get install after an update', () => {
    const fresh = machine({ isRoot: true, commands: ['prometheus'], aptGet: FAKE_APT_GET });
    const said: string[] = [];
    assert.deepEqual(ensureSystemPackages(fresh, undefined, (line) => said.push(line)), { ok: true, installed: ['postgresql', 'redis-server'] });
    const calls = readFileSync(path.join(fresh.path, '..', 'apt-get.log'), 'utf8').trim().split('\n');
    assert.deepEqual(calls, ['-o DPkg::Lock::Timeout=300 update -qq', '-o DPkg::Lock::Timeout=300 install -y -qq postgresql redis-server']);
    assert.deepEqual(said, ['npm test: installing postgresql redis-server with apt-get (once on this machine)']);
  });

  it('not root: one line naming what is missing and the command that installs it', () => {
    const result = ensureSystemPackages(machine({ isRoot: false, postgres: true, aptGet: FAKE_APT_GET }), undefined, quiet);
    assert.deepEqual(result, {
      ok: false,
      line: 'npm test needs Redis (Debian package redis-server), Prometheus (Debian package prometheus), not installed: install as root with: sudo apt-get install -y redis-server prometheus',
    });
  });

  it('no apt-get: one line naming what is missing', () => {
    const result = ensureSystemPackages(machine({ isRoot: true, commands: ['redis-server', 'prometheus'] }), undefined, quiet);
    assert.deepEqual(result, {
      ok: false,
      line: "npm test needs PostgreSQL (Debian package postgresql), not installed, and there is no apt-get to install it: install postgresql with this system's package manager",
    });
  });

  it('apt-get failing: one line with its exit code and last word', () => {
    const result = ensureSystemPackages(machine({ isRoot: true, postgres: true, commands: ['redis-server'], aptGet: '#!/bin/sh\necho "E: Unable to locate package prometheus" >&2\nexit 100\n' }), undefined, quiet);
    assert.equal(result.ok, false);
    assert.match((result as { line: string }).line, /^npm test needs Prometheus \(Debian package prometheus\), not installed, and `apt-get update -qq` failed \(exit 100: E: Unable to locate package prometheus\): fix that, or run: apt-get install -y prometheus$/);
  });

  it('`npm test` (test/run.ts) where it cannot install stops within seconds, with that one line and exit code 1', () => {
    // A PATH with node alone: no redis-server, no prometheus, no apt-get (and no npm and a work dir of its own, so nothing is packed if the check let it through).
    const bin = path.join(scratch, 'node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const started = Date.now();
    const result = spawnSync(path.join(bin, 'node'), ['test/run.ts', 'test/e2e/compile-cache.test.ts'], { cwd: REPO_ROOT, env: { PATH: bin, HOME: scratch, OTEL_REGISTER_TEST_WORK: path.join(scratch, 'work') }, encoding: 'utf8', timeout: 30_000 });
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^npm test needs (.+, )?Redis \(Debian package redis-server\), Prometheus \(Debian package prometheus\), not installed, and there is no apt-get to install it: install (\S+ )?redis-server prometheus with this system's package manager\n$/);
  });
});
