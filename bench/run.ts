/**
 * `npm run bench [-- --quick]`: bare node, ours (default export, and with
 * OTEL_TRACES_EXPORTER=none), dd-trace (`--require dd-trace/init`, exporting
 * to a local stand-in for its agent) and the upstream register
 * (@opentelemetry/auto-instrumentations-node/register) side by side,
 * alternating, in one run. The package is packed and installed like a user
 * would (bench/.work/app); both OTel loaders export OTLP/gRPC with gzip to the
 * test suite's real receiver. Prints start-up cost, files loaded, req/s and
 * p99 as ratios to bare, server CPU per request, how busy the server's and the
 * load generator's cores were, RSS after load, and spans (traces for
 * dd-trace) received / requests served. Every figure is a median over the
 * rounds, with the spread (min–max) beside it.
 *
 * Placement on a machine with 2+ cores: the server on CPU 0; the load
 * generator (wrk when installed, else autocannon; a child process) and this
 * process (the receivers) on CPU 1. The bare run must keep CPU 0 busy throughout; if it does not, the
 * load generator is the bottleneck and every ratio is compressed toward 1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startDdAgentStandIn } from './dd-agent.ts';
import { busyFraction, parseCoreTicks, parseProcessCpuTicks, type CoreTicks } from './proc-stat.ts';
import { parseWrkOutput } from './wrk-output.ts';

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
    'load-generator': { type: 'string' },
    pipelining: { type: 'string', default: '1' },
    workers: { type: 'string', default: '0' },
  },
});
const QUICK = options.quick === true;
const ROUNDS = Number(options.rounds ?? (QUICK ? 1 : 3));
const LOAD_SECONDS = Number(options.duration ?? (QUICK ? 5 : 10));
const WARMUP_SECONDS = QUICK ? 1 : 2;
const STARTUP_SAMPLES = QUICK ? 5 : 7;
const CONNECTIONS = Number(options.connections);
const PIPELINING = Number(options.pipelining);
const WORKERS = Number(options.workers);
const AUTOCANNON = path.resolve(BENCH_DIR, '..', 'node_modules', 'autocannon', 'autocannon.js');
// wrk (C) costs about half of autocannon's CPU per request: with one core each, autocannon barely keeps up with bare node:http.
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const LOAD_GENERATOR = options['load-generator'] ?? (hasWrk && PIPELINING === 1 && WORKERS === 0 ? 'wrk' : 'autocannon');
if (LOAD_GENERATOR !== 'wrk' && LOAD_GENERATOR !== 'autocannon') throw new Error(`--load-generator: wrk or autocannon, not ${LOAD_GENERATOR}`);
if (LOAD_GENERATOR === 'autocannon' && options['load-generator'] === undefined) {
  console.log('wrk not found (apt-get install wrk): autocannon generates the load, and may not outrun a bare server on one core');
}
const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

type VariantName = 'bare' | 'ours' | 'ours-none' | 'dd-trace' | 'upstream';
const VARIANTS: readonly VariantName[] = ['bare', 'ours', 'ours-none', 'dd-trace', 'upstream'];
const TITLES: Record<VariantName, string> = {
  bare: 'bare',
  ours: 'ours',
  'ours-none': 'ours, exporter none',
  'dd-trace': 'dd-trace',
  upstream: 'upstream register',
};
/** Exporter none starts up as ours does; its column is about the request path. */
const STARTUP_VARIANTS: readonly VariantName[] = ['bare', 'ours', 'dd-trace', 'upstream'];

const CORES = os.availableParallelism(); // before pinning ourselves, which narrows it
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && CORES >= 2;
if (hasTaskset) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const onCpu = (cpu: number, command: string, args: string[]): [string, string[]] => (hasTaskset ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args]);
const SERVER_CORE = 0;
const LOAD_CORE = 1;

const started = Date.now();
const APP_DIR = prepareAppDir({
  dependencies: ['express', '@opentelemetry/auto-instrumentations-node', '@opentelemetry/sdk-node', 'dd-trace'],
  fixturesDir: path.join(BENCH_DIR, 'fixtures'),
});
console.log(`bench app installed from the packed tarball in ${APP_DIR} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const receiver = await startOtlpReceiver({ countOnly: true });
const ddAgent = await startDdAgentStandIn();

/** Only what a deployment would set. Both OTel loaders get the same resource detectors (no cloud metadata probes). */
function envFor(variant: VariantName, serviceName: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  if (variant === 'bare') return { ...env, ...extra };
  if (variant === 'dd-trace') {
    // Everything that would call anything but the trace intake is off: telemetry, remote config, stats, profiling.
    Object.assign(env, {
      DD_SERVICE: serviceName,
      DD_TRACE_AGENT_URL: ddAgent.url,
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false',
      DD_RUNTIME_METRICS_ENABLED: 'false',
      DD_TRACE_STATS_COMPUTATION_ENABLED: 'false',
      DD_PROFILING_ENABLED: 'false',
      DD_DATA_STREAMS_ENABLED: 'false',
      DD_DYNAMIC_INSTRUMENTATION_ENABLED: 'false',
      DD_APPSEC_ENABLED: 'false',
      DD_IAST_ENABLED: 'false',
      DD_LLMOBS_ENABLED: 'false',
    });
    return { ...env, ...extra };
  }
  Object.assign(env, {
    OTEL_SERVICE_NAME: serviceName,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
  });
  if (variant === 'ours-none') env.OTEL_TRACES_EXPORTER = 'none';
  if (variant === 'upstream') {
    // Upstream defaults to http/protobuf, no compression, and also exports metrics and logs.
    Object.assign(env, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });
  }
  return { ...env, ...extra };
}

function loaderArgs(variant: VariantName): string[] {
  if (variant === 'upstream') return ['--import', '@opentelemetry/auto-instrumentations-node/register'];
  if (variant === 'ours' || variant === 'ours-none') return ['--import', '@acme/otel-register'];
  if (variant === 'dd-trace') return ['--require', 'dd-trace/init'];
  return [];
}

function spawnNode(args: string[], env: Record<string, string>, stdio: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const [command, fullArgs] = onCpu(SERVER_CORE, process.execPath, args);
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
  const child = spawnNode(['--require', './fixtures/count-loaded.cjs', ...loaderArgs(variant), script], envFor(variant, `files-${variant}`), 'pipe');
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
  /** SERVER spans at the OTLP receiver, or traces at the dd-trace agent stand-in (one per request). */
  exported: number;
  errors: number;
  /** Server process CPU time (all threads) per request served, in the measuring window. */
  cpuMicrosPerRequest: number;
  /** The server process's CPU time / wall time in the window. */
  serverProcessBusy: number;
  /** Busy share of the server's core and the load generator's core in the window (/proc/stat). */
  serverCoreBusy: number;
  loadCoreBusy: number;
}

interface LoadRun {
  reqPerSec: number;
  p99Ms: number;
  errors: number;
}

function generateLoad(url: string, seconds: number): Promise<LoadRun> {
  return LOAD_GENERATOR === 'wrk' ? wrk(url, seconds) : autocannon(url, seconds);
}

function runOnLoadCore(args: string[]): Promise<string> {
  const [command, fullArgs] = onCpu(LOAD_CORE, args[0]!, args.slice(1));
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return once(child, 'close').then(() => stdout);
}

async function autocannon(url: string, seconds: number): Promise<LoadRun> {
  const args = [process.execPath, AUTOCANNON, '--json', '-c', String(CONNECTIONS), '-p', String(PIPELINING), '-d', String(seconds)];
  if (WORKERS > 0) args.push('-w', String(WORKERS));
  const result = JSON.parse(await runOnLoadCore([...args, url])) as { requests: { average: number }; latency: { p99: number }; errors: number; non2xx: number };
  return { reqPerSec: result.requests.average, p99Ms: result.latency.p99, errors: result.errors + result.non2xx };
}

async function wrk(url: string, seconds: number): Promise<LoadRun> {
  const stdout = await runOnLoadCore(['wrk', '-t1', `-c${CONNECTIONS}`, `-d${Math.max(1, Math.round(seconds))}s`, '--latency', url]);
  const result = parseWrkOutput(stdout);
  if (result === undefined) throw new Error(`wrk: unreadable output\n${stdout}`);
  return result;
}

async function getJson(url: string): Promise<{ served: number; rss: number }> {
  const response = await fetch(url);
  return (await response.json()) as { served: number; rss: number };
}

interface Sample {
  at: number;
  served: number;
  processTicks: number;
  cores: { server: CoreTicks | undefined; load: CoreTicks | undefined };
}

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Served count, the server's CPU time and both cores' ticks, as close together as one request allows. */
async function sample(base: string, pid: number): Promise<Sample> {
  const { served } = await getJson(`${base}/__stats`);
  const processTicks = parseProcessCpuTicks(readProc(`/proc/${pid}/stat`)) ?? Number.NaN;
  const procStat = readProc('/proc/stat');
  return { at: performance.now(), served, processTicks, cores: { server: parseCoreTicks(procStat, SERVER_CORE), load: parseCoreTicks(procStat, LOAD_CORE) } };
}

function cpuFigures(before: Sample, after: Sample): Pick<LoadResult, 'cpuMicrosPerRequest' | 'serverProcessBusy' | 'serverCoreBusy' | 'loadCoreBusy'> {
  const cpuSeconds = (after.processTicks - before.processTicks) / CLOCK_TICKS_PER_SECOND;
  const coreBusy = (core: 'server' | 'load') => {
    const [from, to] = [before.cores[core], after.cores[core]];
    return from !== undefined && to !== undefined ? busyFraction(from, to) : Number.NaN;
  };
  return {
    cpuMicrosPerRequest: (cpuSeconds * 1e6) / (after.served - before.served),
    serverProcessBusy: cpuSeconds / ((after.at - before.at) / 1000),
    serverCoreBusy: coreBusy('server'),
    loadCoreBusy: coreBusy('load'),
  };
}

/** Waits until `count()` reaches `expected` or stops growing for `quietMs`. */
async function settledCount(count: () => number, expected: number, quietMs = 2_000, maxMs = 20_000): Promise<number> {
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runLoad(variant: VariantName, app: 'http' | 'express', round: number): Promise<LoadResult> {
  const service = `${app}-${variant}-${round}`;
  ddAgent.reset();
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
  await generateLoad(`${base}${path}`, WARMUP_SECONDS);
  // CPU is measured inside the load, away from the load generator's own start-up and wind-down, when the server would idle.
  const loading = generateLoad(`${base}${path}`, LOAD_SECONDS);
  const windowStart = LOAD_SECONDS >= 4 ? 1_500 : 500;
  await sleep(windowStart);
  const before = await sample(base, child.pid!);
  await sleep(LOAD_SECONDS * 1000 - windowStart - 500);
  const after = await sample(base, child.pid!);
  const result = await loading;
  const stats = await getJson(`${base}/__stats`);
  // SIGTERM, as a platform stops a service: the last spans must make it out too.
  child.kill('SIGTERM');
  const exitedInTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
  const quietMs = exitedInTime ? 2_000 : 5_000;
  let exported = 0;
  if (variant === 'dd-trace') exported = await settledCount(() => ddAgent.traces(), stats.served, quietMs);
  else if (variant === 'ours' || variant === 'upstream') exported = await settledCount(() => receiver.counts.get(service)?.SERVER ?? 0, stats.served, quietMs);
  if (!exitedInTime) {
    // Upstream's SIGTERM handler shuts the SDK down but leaves the server running.
    child.kill('SIGKILL');
    await exited;
  }
  const ownLines = stderr.split('\n').filter((line) => line.startsWith('@acme/otel-register:'));
  if (ownLines.length > 0) console.log(`  ${service} said: ${ownLines.join(' | ')}`);
  if (variant === 'dd-trace' && ddAgent.unreadable() > 0) console.log(`  ${service}: ${ddAgent.unreadable()} agent payload(s) whose trace count could not be read`);
  return {
    reqPerSec: result.reqPerSec,
    p99Ms: result.p99Ms,
    rssMiB: stats.rss / 2 ** 20,
    served: stats.served,
    exported,
    errors: result.errors,
    ...cpuFigures(before, after),
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const rotate = <T>(list: readonly T[], by: number): T[] => list.map((_, i) => list[(i + by) % list.length]!);
/** "median (min–max)": the spread shows the noise; one value alone has none. */
const spread = (values: number[], format: (value: number) => string): string => {
  if (values.length === 0 || values.some(Number.isNaN)) return 'n/a';
  const text = format(median(values));
  return values.length === 1 ? text : `${text} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
};

// --- start-up: paired samples, variant order rotating, added ms = (variant - bare) within a sample.
const STARTUP_SCRIPTS = { empty: 'fixtures/empty.cjs', express: 'fixtures/express-startup.cjs' } as const;
type StartupKey = keyof typeof STARTUP_SCRIPTS;
type StartupVariant = VariantName | 'ours-disabled';
const STARTUP_ORDER: readonly StartupVariant[] = [...STARTUP_VARIANTS, 'ours-disabled'];
const emptyPerVariant = <T>(make: () => T) => Object.fromEntries(STARTUP_ORDER.map((variant) => [variant, make()])) as Record<StartupVariant, T>;
const startupAdded: Record<StartupKey, Record<StartupVariant, number[]>> = { empty: emptyPerVariant(() => []), express: emptyPerVariant(() => []) };
const startupBare: Record<StartupKey, number[]> = { empty: [], express: [] };
const filesLoaded: Record<StartupKey, Partial<Record<VariantName, number>>> = { empty: {}, express: {} };

console.log(`start-up: ${STARTUP_SAMPLES * ROUNDS} paired samples per script`);
for (const key of Object.keys(STARTUP_SCRIPTS) as StartupKey[]) {
  const script = STARTUP_SCRIPTS[key];
  for (const variant of STARTUP_VARIANTS) filesLoaded[key][variant] = await countFiles(variant, script);
  // One unmeasured run each: the page cache, not the loader, would otherwise pay for the first.
  for (const variant of STARTUP_VARIANTS) await timeScript(variant, script);
  for (let sample = 0; sample < STARTUP_SAMPLES * ROUNDS; sample++) {
    const order = rotate(STARTUP_ORDER, sample);
    const times = {} as Record<StartupVariant, number>;
    for (const variant of order) {
      times[variant] = variant === 'ours-disabled' ? await timeScript('ours', script, { OTEL_SDK_DISABLED: 'true' }) : await timeScript(variant, script);
    }
    startupBare[key].push(times.bare);
    for (const variant of order) startupAdded[key][variant].push(times[variant] - times.bare);
  }
}

// --- load: per round, each variant on each app, order rotating; ratios are taken within a round.
type AppName = 'http' | 'express';
const APPS: readonly AppName[] = ['http', 'express'];
const emptyLoads = () => Object.fromEntries(VARIANTS.map((variant) => [variant, [] as LoadResult[]])) as Record<VariantName, LoadResult[]>;
const loads: Record<AppName, Record<VariantName, LoadResult[]>> = { http: emptyLoads(), express: emptyLoads() };
const percent = (fraction: number) => `${(100 * fraction).toFixed(0)} %`;
for (let round = 0; round < ROUNDS; round++) {
  for (const app of APPS) {
    for (const variant of rotate(VARIANTS, round)) {
      const result = await runLoad(variant, app, round);
      loads[app][variant].push(result);
      console.log(
        `  round ${round + 1}/${ROUNDS} ${app.padEnd(7)} ${variant.padEnd(9)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.p99Ms} ms  RSS ${result.rssMiB.toFixed(0)} MiB  served ${result.served}` +
          `  CPU ${result.cpuMicrosPerRequest.toFixed(1)} µs/req  server core ${percent(result.serverCoreBusy)} busy (server ${percent(result.serverProcessBusy)}), load core ${percent(result.loadCoreBusy)}` +
          (variant === 'bare' || variant === 'ours-none' ? '' : `  ${variant === 'dd-trace' ? 'traces' : 'SERVER spans'} ${result.exported}`) +
          (result.errors > 0 ? `  errors ${result.errors}` : ''),
      );
    }
  }
}
await receiver.close();
await ddAgent.close();

// --- the table
const ratios = (app: AppName, variant: VariantName, pick: (r: LoadResult) => number) => loads[app][variant].map((result, round) => pick(result) / pick(loads[app].bare[round]!));
const fmtMs = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(0)} ms`;
const fmtRatio = (digits: number) => (value: number) => `${value.toFixed(digits)}x`;
const rows: string[][] = [['', ...VARIANTS.map((variant) => TITLES[variant])]];
const row = (label: string, cell: (variant: VariantName) => string) => rows.push([label, ...VARIANTS.map(cell)]);
for (const key of Object.keys(STARTUP_SCRIPTS) as StartupKey[]) {
  const label = key === 'empty' ? 'empty script' : 'express app';
  const startup = (variant: VariantName) => (!STARTUP_VARIANTS.includes(variant) ? '' : variant === 'bare' ? spread(startupBare[key], (ms) => `${ms.toFixed(0)} ms`) : spread(startupAdded[key][variant], fmtMs));
  row(`start-up, ${label}: wall added`, startup);
  row(`start-up, ${label}: files loaded`, (variant) => String(filesLoaded[key][variant] ?? ''));
}
row('start-up, OTEL_SDK_DISABLED=true: wall added (empty / express)', (variant) =>
  variant === 'ours' ? `${fmtMs(median(startupAdded.empty['ours-disabled']))} / ${fmtMs(median(startupAdded.express['ours-disabled']))}` : '',
);
for (const app of APPS) {
  const label = app === 'http' ? 'node:http' : 'express';
  const of = (variant: VariantName, pick: (r: LoadResult) => number) => loads[app][variant].map(pick);
  row(`${label}: req/s (ratio to bare)`, (variant) => (variant === 'bare' ? spread(of('bare', (r) => r.reqPerSec), (v) => v.toFixed(0)) : spread(ratios(app, variant, (r) => r.reqPerSec), fmtRatio(2))));
  row(`${label}: p99 latency (ratio to bare)`, (variant) => (variant === 'bare' ? spread(of('bare', (r) => r.p99Ms), (v) => `${v} ms`) : spread(ratios(app, variant, (r) => r.p99Ms), fmtRatio(1))));
  row(`${label}: server CPU per request`, (variant) => spread(of(variant, (r) => r.cpuMicrosPerRequest), (v) => `${v.toFixed(0)} µs`));
  row(`${label}: server core busy (server process)`, (variant) => `${spread(of(variant, (r) => r.serverCoreBusy), percent)} (${spread(of(variant, (r) => r.serverProcessBusy), percent)})`);
  row(`${label}: load generator core busy`, (variant) => spread(of(variant, (r) => r.loadCoreBusy), percent));
  const bareRss = median(of('bare', (r) => r.rssMiB));
  row(`${label}: RSS after load`, (variant) => {
    const text = spread(of(variant, (r) => r.rssMiB), (v) => `${v.toFixed(0)} MiB`);
    return variant === 'bare' ? text : `${text} +${(median(of(variant, (r) => r.rssMiB)) - bareRss).toFixed(0)}`;
  });
  row(`${label}: SERVER spans (dd-trace: traces) received / served`, (variant) => {
    if (variant === 'bare' || variant === 'ours-none') return '';
    const received = loads[app][variant].reduce((sum, r) => sum + r.exported, 0);
    const served = loads[app][variant].reduce((sum, r) => sum + r.served, 0);
    return `${((100 * received) / served).toFixed(1)} % (${received}/${served})`;
  });
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${CORES} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
console.log(`\n${machine}`);
console.log(
  `${ROUNDS} round(s), ${LOAD_SECONDS} s load (after ${WARMUP_SECONDS} s warm-up) per configuration, ${LOAD_GENERATOR === 'wrk' ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c ${CONNECTIONS} -p ${PIPELINING}${WORKERS > 0 ? ` -w ${WORKERS}` : ''}`}, ` +
    (hasTaskset ? `server on CPU ${SERVER_CORE}, load generator and receivers on CPU ${LOAD_CORE}` : 'no CPU pinning (taskset missing or 1 core)') +
    `; each figure is the median, (min–max) over the rounds; ratios are per-round ratios to bare; start-up is over ${STARTUP_SAMPLES * ROUNDS} paired samples\n`,
);
for (const cells of rows) console.log(cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   '));
const bareServerBusy = median(APPS.flatMap((app) => loads[app].bare.map((r) => r.serverProcessBusy)));
const bareCoreBusy = median(APPS.flatMap((app) => loads[app].bare.map((r) => r.serverCoreBusy)));
if (bareServerBusy < 0.9) {
  console.log(
    `\nThe bare server was busy ${percent(bareServerBusy)} of the time: it was not the bottleneck, so every ratio is compressed toward 1. ` +
      (bareCoreBusy - bareServerBusy > 0.1
        ? `Its core was ${percent(bareCoreBusy)} busy: other processes ran on it; take figures on a quiet machine.`
        : `The load generator set the pace${LOAD_GENERATOR === 'wrk' ? '' : '; install wrk'}.`),
  );
}
const otherCalls = [...ddAgent.otherRequests].map(([request, count]) => `${request} x${count}`);
console.log(`dd-trace's calls to its agent other than trace intake: ${otherCalls.length > 0 ? otherCalls.join(', ') : 'none'}`);
writeFileSync(path.join(process.env.OTEL_REGISTER_TEST_WORK, 'results.json'), JSON.stringify({ machine, rounds: ROUNDS, loadSeconds: LOAD_SECONDS, loadGenerator: LOAD_GENERATOR, pipelining: PIPELINING, startupAdded, startupBare, filesLoaded, loads }, null, 2));
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; raw numbers in ${path.join(process.env.OTEL_REGISTER_TEST_WORK, 'results.json')})`);
