/**
 * Runs Fastify's own unit suite (the test/ its npm tarball ships) bare and
 * with the loader preloaded through NODE_OPTIONS, and reports the tests that
 * fail only with the loader. Not part of `npm test`: it needs the registry
 * once and takes minutes.
 *
 *   npm run build && node scripts/run-fastify-suite.ts [--only bare|loader] [--filter same-shape]
 *
 * Set-up (done when missing): `npm pack fastify@<our devDependency version>`
 * unpacked as .work/suites/fastify/node_modules/fastify, its devDependencies
 * installed inside it. The tests load Fastify as `require('..')`, which no
 * instrumentation waits for; a `--require` of a file doing
 * `require('fastify/package.json')` stands for the app that names Fastify: it
 * loads our instrumentation and none of Fastify's modules (some tests stub
 * Fastify's internals before loading them).
 *
 * Files run one at a time (`node --test <file>`), each with a time and heap
 * cap; the loader run exports OTLP/gRPC to a local receiver, whose span count
 * shows the loader was active.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const HOST_DIR = path.join(REPO_ROOT, '.work', 'suites', 'fastify');
const SUITE_DIR = path.join(HOST_DIR, 'node_modules', 'fastify');
const TRIGGER = path.join(HOST_DIR, 'require-fastify.cjs');
const REGISTER = path.join(REPO_ROOT, 'dist', 'register.js');
const FILE_TIMEOUT_MS = 300_000;
const HEAP_MB = 4096;

const { values: options } = parseArgs({
  options: { only: { type: 'string' }, filter: { type: 'string' } },
});

interface FileResult {
  file: string;
  pass: number;
  fail: number;
  failures: string[];
  seconds: number;
  maxRssMb: number;
  timedOut: boolean;
}

function prepareSuite(): void {
  if (existsSync(path.join(SUITE_DIR, 'test'))) return;
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const version = manifest.devDependencies.fastify!;
  mkdirSync(path.dirname(SUITE_DIR), { recursive: true });
  const env = { ...process.env, NODE_OPTIONS: '' };
  execFileSync('npm', ['pack', `fastify@${version}`], { cwd: HOST_DIR, stdio: 'inherit', env });
  execFileSync('tar', ['xzf', `fastify-${version}.tgz`], { cwd: HOST_DIR });
  renameSync(path.join(HOST_DIR, 'package'), SUITE_DIR);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: SUITE_DIR, stdio: 'inherit', env });
}

/** The files of Fastify's `unit` script (borp, .borp.yaml: test/**\/*.test.js and .mjs). */
function testFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(SUITE_DIR, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (/\.test\.m?js$/.test(entry.name)) found.push(relative);
    }
  };
  walk('test');
  return found.sort().filter((file) => options.filter === undefined || file.includes(options.filter));
}

/** TAP from `node --test`: the summary counts and the name path of each failing test. */
function parseTap(file: string, tap: string): Pick<FileResult, 'pass' | 'fail' | 'failures'> {
  const failures: string[] = [];
  const names: string[] = [];
  let pass = 0;
  let fail = 0;
  for (const line of tap.split('\n')) {
    const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      names[subtest[1]!.length / 4] = subtest[2]!;
      continue;
    }
    const notOk = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (notOk) {
      const depth = notOk[1]!.length / 4;
      failures.push(`${file} > ${[...names.slice(0, depth), notOk[2]!].join(' > ')}`);
    }
    const count = /^# (pass|fail) (\d+)$/.exec(line);
    if (count?.[1] === 'pass') pass = Number(count[2]);
    if (count?.[1] === 'fail') fail = Number(count[2]);
  }
  // A parent fails with its failing children; keep the deepest names only.
  const leaves = failures.filter((name) => !failures.some((other) => other !== name && other.startsWith(`${name} > `)));
  return { pass, fail, failures: leaves };
}

function runFile(file: string, env: Record<string, string>): Promise<FileResult> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    // /usr/bin/time reports the peak RSS of the test process tree's biggest process.
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, '--test', '--test-reporter=tap', file], {
      cwd: SUITE_DIR,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, FILE_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      const parsed = parseTap(file, stdout);
      const rss = /MAXRSS (\d+)/.exec(stderr);
      if (timedOut) parsed.failures.push(`${file} > (timed out after ${FILE_TIMEOUT_MS / 1000} s)`);
      resolve({ file, ...parsed, seconds: Number(process.hrtime.bigint() - started) / 1e9, maxRssMb: rss ? Number(rss[1]) / 1024 : 0, timedOut });
    });
  });
}

async function runSuite(label: string, env: Record<string, string>, files: string[]): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const file of files) {
    const result = await runFile(file, env);
    results.push(result);
    const flag = result.fail > 0 || result.timedOut ? ' FAIL' : '';
    console.error(`[${label}] ${file}: ${result.pass} pass, ${result.fail} fail, ${result.seconds.toFixed(1)} s, ${result.maxRssMb.toFixed(0)} MB${flag}`);
  }
  return results;
}

function total(results: FileResult[]): { pass: number; fail: number; seconds: number } {
  return results.reduce((sum, r) => ({ pass: sum.pass + r.pass, fail: sum.fail + r.fail, seconds: sum.seconds + r.seconds }), { pass: 0, fail: 0, seconds: 0 });
}

prepareSuite();
writeFileSync(TRIGGER, "// Stands for the app that requires Fastify by name, without loading Fastify's modules.\nrequire('fastify/package.json');\n");
if (!existsSync(REGISTER)) throw new Error('run `npm run build` first: dist/register.js is missing');
const files = testFiles();
const baseEnv = { ...(process.env as Record<string, string>), NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` };
const report: Record<string, FileResult[]> = {};

if (options.only !== 'loader') {
  report.bare = await runSuite('bare', { ...baseEnv, NODE_OPTIONS: `${baseEnv.NODE_OPTIONS} --require ${TRIGGER}` }, files);
}
let spansReceived = 0;
if (options.only !== 'bare') {
  const receiver = await startOtlpReceiver({ countOnly: true });
  const env = {
    ...baseEnv,
    NODE_OPTIONS: `${baseEnv.NODE_OPTIONS} --require ${REGISTER} --require ${TRIGGER}`,
    OTEL_SERVICE_NAME: 'fastify-suite',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  report.loader = await runSuite('loader', env, files);
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const kinds of receiver.counts.values()) for (const n of Object.values(kinds)) spansReceived += n ?? 0;
  await receiver.close();
}

// Each run is kept, so `--only loader` compares against the last bare run of the same files.
for (const [label, results] of Object.entries(report)) {
  writeFileSync(path.join(HOST_DIR, `report-${label}.json`), JSON.stringify({ filter: options.filter ?? null, spansReceived, results }, null, 2));
}
for (const label of ['bare', 'loader']) {
  const saved = path.join(HOST_DIR, `report-${label}.json`);
  if (report[label] !== undefined || !existsSync(saved)) continue;
  const previous = JSON.parse(readFileSync(saved, 'utf8')) as { filter: string | null; results: FileResult[] };
  if (previous.filter === (options.filter ?? null)) report[label] = previous.results;
}
console.log(`Fastify ${JSON.parse(readFileSync(path.join(SUITE_DIR, 'package.json'), 'utf8')).version} unit suite, ${files.length} files (reports: ${path.relative(REPO_ROOT, HOST_DIR)}/report-*.json)`);
for (const [label, results] of Object.entries(report)) {
  const t = total(results);
  const slowest = [...results].sort((a, b) => b.seconds - a.seconds)[0];
  const biggest = [...results].sort((a, b) => b.maxRssMb - a.maxRssMb)[0];
  console.log(`${label}: ${t.pass} pass, ${t.fail} fail, ${t.seconds.toFixed(0)} s; slowest ${slowest?.file} ${slowest?.seconds.toFixed(1)} s; peak RSS ${biggest?.file} ${biggest?.maxRssMb.toFixed(0)} MB`);
}
if (report.loader) console.log(`spans received from the loader run: ${spansReceived}`);
if (report.bare && report.loader) {
  const bareFailures = new Set(report.bare.flatMap((r) => r.failures));
  const loaderOnly = report.loader.flatMap((r) => r.failures).filter((name) => !bareFailures.has(name));
  console.log(`failing only with the loader: ${loaderOnly.length}`);
  for (const name of loaderOnly) console.log(`  ${name}`);
  process.exitCode = loaderOnly.length === 0 ? 0 : 1;
}
