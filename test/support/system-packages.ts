/**
 * What the end-to-end tests need from the machine beyond npm packages, as
 * Debian packages. test/run.ts calls ensureSystemPackages() first, so the
 * README's `npm test` alone works on a fresh machine: as root with apt-get it
 * installs what is missing (once per machine); otherwise it stops within
 * seconds with one line naming what is missing and the command that installs it.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The machine as far as this module looks at it; tests pass a made-up one. */
export interface Machine {
  /** PATH to look for commands in (apt-get, redis-server, …) and to run apt-get with. */
  path: string;
  isRoot: boolean;
  /** Where Debian's PostgreSQL server packages put their versions (`<root>/15/bin/initdb`). */
  postgresRoot: string;
}

export interface SystemPackage {
  /** The Debian package. */
  name: string;
  /** What it gives the tests, for the one line. */
  purpose: string;
  isInstalled(machine: Machine): boolean;
}

export function currentMachine(): Machine {
  return { path: process.env.PATH ?? '', isRoot: process.getuid?.() === 0, postgresRoot: '/usr/lib/postgresql' };
}

function findCommand(command: string, searchPath: string): string | undefined {
  for (const directory of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(directory, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** PostgreSQL's server tools are not on PATH on Debian; test/support/services.ts finds them under the versioned folder too. */
function hasPostgresServer(root: string): boolean {
  return existsSync(root) && readdirSync(root).some((version) => existsSync(path.join(root, version, 'bin', 'initdb')));
}

export const SYSTEM_PACKAGES: readonly SystemPackage[] = [
  { name: 'postgresql', purpose: 'PostgreSQL', isInstalled: (machine) => hasPostgresServer(machine.postgresRoot) },
  { name: 'redis-server', purpose: 'Redis', isInstalled: (machine) => findCommand('redis-server', machine.path) !== undefined },
  { name: 'prometheus', purpose: 'Prometheus', isInstalled: (machine) => findCommand('prometheus', machine.path) !== undefined },
];

export type SystemPackagesResult = { ok: true; installed: string[] } | { ok: false; line: string };

/**
 * Installs the missing packages with apt-get where it can; `log` gets one line
 * before a (slow) install. Never throws: a failure is the one line to print.
 */
export function ensureSystemPackages(machine: Machine = currentMachine(), packages: readonly SystemPackage[] = SYSTEM_PACKAGES, log: (line: string) => void = console.log): SystemPackagesResult {
  const missing = packages.filter((pkg) => !pkg.isInstalled(machine));
  if (missing.length === 0) return { ok: true, installed: [] };
  const names = missing.map((pkg) => pkg.name).join(' ');
  const needs = `npm test needs ${missing.map((pkg) => `${pkg.purpose} (Debian package ${pkg.name})`).join(', ')}, not installed`;
  const aptGet = findCommand('apt-get', machine.path);
  if (aptGet === undefined) return { ok: false, line: `${needs}, and there is no apt-get to install it: install ${names} with this system's package manager` };
  if (!machine.isRoot) return { ok: false, line: `${needs}: install as root with: sudo apt-get install -y ${names}` };

  log(`npm test: installing ${names} with apt-get (once on this machine)`);
  const env = { ...process.env, PATH: machine.path, DEBIAN_FRONTEND: 'noninteractive' };
  // Another process may hold the dpkg lock (a second npm test starting alike): wait for it.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  for (const args of [[...lockWait, 'update', '-qq'], [...lockWait, 'install', '-y', '-qq', ...missing.map((pkg) => pkg.name)]]) {
    try {
      execFileSync(aptGet, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const { status, stderr } = error as { status?: number | null; stderr?: string };
      const reason = (stderr ?? '').trim().split('\n').pop() || (error as Error).message;
      return { ok: false, line: `${needs}, and \`apt-get ${args.slice(lockWait.length).join(' ')}\` failed (exit ${status ?? '?'}: ${reason}): fix that, or run: apt-get install -y ${names}` };
    }
  }
  const stillMissing = missing.filter((pkg) => !pkg.isInstalled(machine));
  if (stillMissing.length > 0) return { ok: false, line: `npm test: apt-get installed ${names}, but ${stillMissing.map((pkg) => pkg.name).join(' ')} still cannot be found (PATH=${machine.path})` };
  return { ok: true, installed: missing.map((pkg) => pkg.name) };
}
