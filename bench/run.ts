/**
 * `npm run bench [-- --quick]`: bare node, the upstream register
 * (@opentelemetry/auto-instrumentations-node/register) and ours, side by side,
 * alternating, in one run. The package is packed and installed like a user
 * would (bench/.work/app); both loaders export OTLP/gRPC with gzip to the test
 * suite's real receiver. Prints start-up cost, files loaded, req/s and p99 as
 * ratios to bare, RSS after load, and SERVER spans received / requests served.
 *
 * Placement on a machine with 2+ cores: the server on CPU 0; the load
 * generator (autocannon, a child process) and this process (the receiver) on CPU 1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const BENCH_DIR = import.meta.dirname;
// Its own work dir, so a bench run and a test run never share an install.
process.env.OTEL_REGISTER_TEST_WORK = process.env.OTEL_REGISTER_BENCH_WORK ?? path.join(BENCH_DIR, '.work');
const { prepareAppDir } = await import('../test/support/app-dir.ts');
const { startOtlpReceiver } = await import('../test/support/otlp-receiver.ts');

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
  },
});
const QUICK = options.quick === true;
const ROUNDS = Number(options.rounds ?? (QUICK ? 1 : 3));
const LOAD_SECONDS = Number(options.duration ?? (QUICK ? 5 : 10));
const WARMUP_SECONDS = QUICK ? 1 : 2;
const STARTUP_SAMPLES = QUICK ? 5 : 7;
const CONNECTIONS = Number(options.connections);
const AUTOCANNON = path.resolve(BENCH_DIR, '..', 'node_modules', 'autocannon', 'autocannon.js');

type VariantName = 'bare' | 'upstream' | 'ours';
const VARIANTS: readonly VariantName[] = ['bare', 'upstream', 'ours'];

const CORES = os.availableParallelism(); // before pinning ourselves, which narrows it
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && CORES >= 2;
if (hasTaskset) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const onCpu = (cpu: number, command: string, args: string[]): [string, string[]] => (hasTaskset ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args]);

const started = Date.now();
const APP_DIR = prepareAppDir({
  dependencies: ['express', '@opentelemetry/auto-instrumentations-node', '@opentelemetry/sdk-node'],
  fixturesDir: path.join(BENCH_DIR, 'fixtures'),
});
console.log(`bench app installed from the packed tarball in ${APP_DIR} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const receiver = await startOtlpReceiver({ countOnly: true });

/** Only what a deployment would set. Both loaders get the same resource detectors (no cloud metadata probes). */
function envFor(variant: VariantName, serviceName: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
  if (variant === 'bare') return env;
  Object.assign(env, {
    OTEL_SERVICE_NAME: serviceName,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
  });
  if (variant === 'upstream') {
    // Upstream defaults to http/protobuf, no compression, and also exports metrics and logs.
    Object.assign(env, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });
  }
  return { ...env, ...extra };
}

function loaderArgs(variant: VariantName): string[] {
  if (variant === 'upstream') return ['--import', '@opentelemetry/auto-instrumentations-node/register'];
  if (variant === 'ours') return ['--import', '@acme/otel-register'];
  return [];
}

function spawnNode(args: string[], env: Record<string, string>, stdio: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const [command, fullArgs] = onCpu(0, process.execPath, args);
  return spawn(command, fullArgs, { cwd: APP_DIR, env, stdio: ['ignore', stdio, stdio] });
}

async function timeScript(variant: VariantName, script: string, extraEnv: Record<string, string> = {}): Promise<number> {
  const startedAt = process.hrtime.bigint();
  const child = spawnNode([...loaderArgs(variant), script], envFor(variant, `startup-${variant}`, extraEnv));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${variant} ${script} exited with ${code}`);
  return Number(process.hrtime.bigint() - startedAt) / 1e6;
}

async function countFiles(variant: VariantName, script: string): Promise<number> {
  const child = spawnNode(['--import', './fixtures/count-loaded.mjs', ...loaderArgs(variant), script], envFor(variant, `files-${variant}`), 'pipe');
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await once(child, 'close');
  const match = /LOADED_FILES (\d+)/.exec(stderr);
  if (!match) throw new Error(`${variant} ${script}: no file count\n${stderr}`);
  return Number(match[1]);
}

interface LoadResult {
  reqPerSec: number;
  p99Ms: number;
  rssMiB: number;
  served: number;
  serverSpans: number;
  errors: number;
}

function autocannon(url: string, seconds: number): Promise<{ requests: { average: number }; latency: { p99: number }; errors: number; non2xx: number }> {
  const [command, args] = onCpu(1, process.execPath, [AUTOCANNON, '--json', '-c', String(CONNECTIONS), '-d', String(seconds), url]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return once(child, 'close').then(() => JSON.parse(stdout));
}

async function getJson(url: string): Promise<{ served: number; rss: number }> {
  const response = await fetch(url);
  return (await response.json()) as { served: number; rss: number };
}

/** Waits until the receiver's count for `service` reaches `expected` or stops growing for `quietMs`. */
async function settledServerSpans(service: string, expected: number, quietMs = 2_000, maxMs = 20_000): Promise<number> {
  const count = () => receiver.counts.get(service)?.SERVER ?? 0;
  const deadline = Date.now() + maxMs;
  let last = count();
  let lastChange = Date.now();
  while (Date.now() < deadline && count() < expected) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (count() !== last) {
      last = count();
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) break;
  }
  return count();
}

async function runLoad(variant: VariantName, app: 'http' | 'express', round: number): Promise<LoadResult> {
  const service = `${app}-${variant}-${round}`;
  const child = spawnNode([...loaderArgs(variant), `fixtures/${app}-server.cjs`], envFor(variant, service), 'pipe');
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} did not listen\n${stderr}`)), 20_000);
    child.stdout!.on('data', () => {
      const match = /LISTENING (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const path = app === 'express' ? '/hello/world' : '/';
  await autocannon(`${base}${path}`, WARMUP_SECONDS);
  const result = await autocannon(`${base}${path}`, LOAD_SECONDS);
  const stats = await getJson(`${base}/__stats`);
  // SIGTERM, as a platform stops a service: the last spans must make it out too.
  child.kill('SIGTERM');
  const exitedInTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
  const serverSpans = variant === 'bare' ? 0 : await settledServerSpans(service, stats.served, exitedInTime ? 2_000 : 5_000);
  if (!exitedInTime) {
    // Upstream's SIGTERM handler shuts the SDK down but leaves the server running.
    child.kill('SIGKILL');
    await exited;
  }
  const ownLines = stderr.split('\n').filter((line) => line.startsWith('@acme/otel-register:'));
  if (ownLines.length > 0) console.log(`  ${service} said: ${ownLines.join(' | ')}`);
  return {
    reqPerSec: result.requests.average,
    p99Ms: result.latency.p99,
    rssMiB: stats.rss / 2 ** 20,
    served: stats.served,
    serverSpans,
    errors: result.errors + result.non2xx,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const rotate = <T>(list: readonly T[], by: number): T[] => list.map((_, i) => list[(i + by) % list.length]!);

// --- start-up: paired samples, variant order rotating, added ms = median of (variant - bare) within a sample.
const STARTUP_SCRIPTS = { empty: 'fixtures/empty.cjs', express: 'fixtures/express-startup.cjs' } as const;
type StartupKey = keyof typeof STARTUP_SCRIPTS;
type StartupVariant = VariantName | 'ours-disabled';
const startupAdded: Record<StartupKey, Record<StartupVariant, number[]>> = {
  empty: { bare: [], upstream: [], ours: [], 'ours-disabled': [] },
  express: { bare: [], upstream: [], ours: [], 'ours-disabled': [] },
};
const startupBare: Record<StartupKey, number[]> = { empty: [], express: [] };
const filesLoaded: Record<StartupKey, Record<VariantName, number>> = { empty: { bare: 0, upstream: 0, ours: 0 }, express: { bare: 0, upstream: 0, ours: 0 } };

console.log(`start-up: ${STARTUP_SAMPLES * ROUNDS} paired samples per script`);
for (const key of Object.keys(STARTUP_SCRIPTS) as StartupKey[]) {
  const script = STARTUP_SCRIPTS[key];
  for (const variant of VARIANTS) filesLoaded[key][variant] = await countFiles(variant, script);
  // One unmeasured run each: the page cache, not the loader, would otherwise pay for the first.
  for (const variant of VARIANTS) await timeScript(variant, script);
  for (let sample = 0; sample < STARTUP_SAMPLES * ROUNDS; sample++) {
    const order: StartupVariant[] = rotate(['bare', 'upstream', 'ours', 'ours-disabled'] as StartupVariant[], sample);
    const times = {} as Record<StartupVariant, number>;
    for (const variant of order) {
      times[variant] = variant === 'ours-disabled' ? await timeScript('ours', script, { OTEL_SDK_DISABLED: 'true' }) : await timeScript(variant, script);
    }
    startupBare[key].push(times.bare);
    for (const variant of order) startupAdded[key][variant].push(times[variant] - times.bare);
  }
}

// --- load: per round, each variant on each app, order rotating; ratios are taken within a round.
const loads: Record<'http' | 'express', Record<VariantName, LoadResult[]>> = {
  http: { bare: [], upstream: [], ours: [] },
  express: { bare: [], upstream: [], ours: [] },
};
for (let round = 0; round < ROUNDS; round++) {
  for (const app of ['http', 'express'] as const) {
    for (const variant of rotate(VARIANTS, round)) {
      const result = await runLoad(variant, app, round);
      loads[app][variant].push(result);
      console.log(
        `  round ${round + 1}/${ROUNDS} ${app.padEnd(7)} ${variant.padEnd(8)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.p99Ms} ms  RSS ${result.rssMiB.toFixed(0)} MiB  served ${result.served}` +
          (variant === 'bare' ? '' : `  SERVER spans ${result.serverSpans}`) +
          (result.errors > 0 ? `  errors ${result.errors}` : ''),
      );
    }
  }
}
await receiver.close();

// --- the table
const ratio = (app: 'http' | 'express', variant: VariantName, pick: (r: LoadResult) => number) =>
  median(loads[app][variant].map((result, round) => pick(result) / pick(loads[app].bare[round]!)));
const fmtMs = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(0)} ms`;
const rows: string[][] = [['', 'bare', 'upstream', 'ours']];
for (const key of Object.keys(STARTUP_SCRIPTS) as StartupKey[]) {
  const label = key === 'empty' ? 'empty script' : 'express app';
  rows.push([`start-up, ${label}: wall added`, `${median(startupBare[key]).toFixed(0)} ms`, fmtMs(median(startupAdded[key].upstream)), fmtMs(median(startupAdded[key].ours))]);
  rows.push([`start-up, ${label}: files loaded`, String(filesLoaded[key].bare), String(filesLoaded[key].upstream), String(filesLoaded[key].ours)]);
}
rows.push(['start-up, OTEL_SDK_DISABLED=true: wall added (empty / express)', '', '', `${fmtMs(median(startupAdded.empty['ours-disabled']))} / ${fmtMs(median(startupAdded.express['ours-disabled']))}`]);
for (const app of ['http', 'express'] as const) {
  const label = app === 'http' ? 'node:http' : 'express';
  const bareReq = median(loads[app].bare.map((r) => r.reqPerSec));
  const bareP99 = median(loads[app].bare.map((r) => r.p99Ms));
  const bareRss = median(loads[app].bare.map((r) => r.rssMiB));
  rows.push([`${label}: req/s (ratio to bare)`, bareReq.toFixed(0), `${ratio(app, 'upstream', (r) => r.reqPerSec).toFixed(2)}x`, `${ratio(app, 'ours', (r) => r.reqPerSec).toFixed(2)}x`]);
  rows.push([`${label}: p99 latency (ratio to bare)`, `${bareP99} ms`, `${ratio(app, 'upstream', (r) => r.p99Ms).toFixed(1)}x`, `${ratio(app, 'ours', (r) => r.p99Ms).toFixed(1)}x`]);
  const rss = (variant: VariantName) => {
    const value = median(loads[app][variant].map((r) => r.rssMiB));
    return `${value.toFixed(0)} MiB (+${(value - bareRss).toFixed(0)})`;
  };
  rows.push([`${label}: RSS after load`, `${bareRss.toFixed(0)} MiB`, rss('upstream'), rss('ours')]);
  const spans = (variant: VariantName) => {
    const received = loads[app][variant].reduce((sum, r) => sum + r.serverSpans, 0);
    const served = loads[app][variant].reduce((sum, r) => sum + r.served, 0);
    return `${((100 * received) / served).toFixed(1)} % (${received}/${served})`;
  };
  rows.push([`${label}: SERVER spans received / requests served`, '', spans('upstream'), spans('ours')]);
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${CORES} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
console.log(`\n${machine}`);
console.log(
  `${ROUNDS} round(s), ${LOAD_SECONDS} s load (after ${WARMUP_SECONDS} s warm-up) per configuration, autocannon -c ${CONNECTIONS}, ` +
    (hasTaskset ? 'server on CPU 0, load generator and receiver on CPU 1' : 'no CPU pinning (taskset missing or 1 core)') +
    `; ratios are medians of per-round ratios; start-up is the median of ${STARTUP_SAMPLES * ROUNDS} paired samples\n`,
);
for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   '));
writeFileSync(path.join(process.env.OTEL_REGISTER_TEST_WORK, 'results.json'), JSON.stringify({ machine, rounds: ROUNDS, loadSeconds: LOAD_SECONDS, startupAdded, startupBare, filesLoaded, loads }, null, 2));
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; raw numbers in ${path.join(process.env.OTEL_REGISTER_TEST_WORK, 'results.json')})`);
