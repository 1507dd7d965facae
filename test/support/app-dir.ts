/**
 * Users install the packed tarball, so the end-to-end tests do too: `npm pack`
 * (which builds through prepack), then install the tarball and the fixtures'
 * frameworks into test/.work/app, as a user's app directory would have them.
 * The install is skipped when the tarball and dependency list are unchanged.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
// OTEL_REGISTER_TEST_WORK lets two checkouts run their suites side by side.
export const WORK_DIR = process.env.OTEL_REGISTER_TEST_WORK ?? path.join(REPO_ROOT, '.work', 'test');
export const APP_DIR = path.join(WORK_DIR, 'app');
const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures');

/** Frameworks and clients the fixtures use, at the versions the repo tests against. */
const FIXTURE_DEPENDENCIES = [
  'express', 'koa', '@koa/router', 'fastify', 'pg', 'ioredis', 'axios', 'undici', '@nestjs/core', '@nestjs/common', '@nestjs/platform-express', 'reflect-metadata', 'rxjs',
  'pino', 'winston', 'bunyan',
  // The logs API before it joined @opentelemetry/api 1.10, still used by libraries.
  '@opentelemetry/api-logs',
  // Exit-hook libraries (signal-exit 3 and 4 side by side, under npm aliases where needed).
  'signal-exit', 'signal-exit-v3', 'write-file-atomic', 'write-file-atomic-v3', 'exit-hook', 'async-exit-hook', 'close-with-grace',
];

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
}

export interface AppDirOptions {
  /** Packages (at the repo's devDependency versions) installed beside ours; the fixtures' frameworks by default. */
  dependencies?: readonly string[];
  /** Copied to <app>/fixtures. */
  fixturesDir?: string;
}

export function prepareAppDir(options: AppDirOptions = {}): string {
  mkdirSync(WORK_DIR, { recursive: true });
  for (const old of readdirSync(WORK_DIR).filter((name) => name.endsWith('.tgz'))) rmSync(path.join(WORK_DIR, old));
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', WORK_DIR], REPO_ROOT)) as { filename: string }[];
  const tarball = path.join(WORK_DIR, packed[0]!.filename);
  const rootPackage = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const dependencies: Record<string, string> = { '@acme/otel-register': `file:${tarball}` };
  for (const name of options.dependencies ?? FIXTURE_DEPENDENCIES) dependencies[name] = rootPackage.devDependencies[name] ?? 'latest';
  const manifest = JSON.stringify({ name: 'otel-register-test-app', private: true, dependencies }, null, 2);
  const stamp = createHash('sha256').update(readFileSync(tarball)).update(manifest).digest('hex');
  const stampFile = path.join(APP_DIR, '.installed-stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(APP_DIR, { recursive: true, force: true });
    mkdirSync(APP_DIR, { recursive: true });
    writeFileSync(path.join(APP_DIR, 'package.json'), manifest);
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], APP_DIR);
    writeFileSync(stampFile, stamp);
  }
  // Fixtures and the example apps run from the app directory, as a user's code would.
  for (const [from, to] of [[options.fixturesDir ?? FIXTURES_DIR, 'fixtures'], [path.join(REPO_ROOT, 'examples'), 'examples']] as const) {
    rmSync(path.join(APP_DIR, to), { recursive: true, force: true });
    cpSync(from, path.join(APP_DIR, to), { recursive: true });
  }
  return APP_DIR;
}
