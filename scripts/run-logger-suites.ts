/**
 * pino's and winston's own test suites, bare and then with the loader
 * preloaded (NODE_OPTIONS="--require <this checkout>/dist/register.js"), and
 * the tests that fail only with the loader (issue #16). Not part of `npm test`:
 * the sources come from GitHub, which CI cannot reach.
 *
 *   node scripts/run-logger-suites.ts [pino] [winston]     (after `npm run build`)
 *
 * Each library sits at .work/suites/node_modules/<name> (git-ignored), under a
 * node_modules path as an app has it, with its devDependencies installed:
 *   pino     `git archive v10.3.1` of pinojs/pino; npm install --ignore-scripts;
 *            node test/fixtures/ts/transpile.cjs (with its own tsc first in PATH)
 *   winston  `git archive v3.19.0` of winstonjs/winston; npm install --ignore-scripts
 * pino's tests reach pino as require('../'); an app reaches it by name, which
 * is when the loader loads its instrumentation. So both pino runs preload a
 * file that requires pino by name first (winston: see preloadByName). Before
 * the runs a probe checks, in the same setting, that a line logged inside a
 * request carries the correlation fields (the loader is active and the
 * library instrumented).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const SUITES_DIR = path.join(REPO_ROOT, '.work', 'suites');
const REGISTER = path.join(REPO_ROOT, 'dist', 'register.js');
const RUN_TIMEOUT_MS = 30 * 60_000;

interface TestResult {
  name: string;
  passed: boolean;
  /** The failure's report, to tell the documented correlation fields from anything else. */
  detail: string;
}

interface Suite {
  name: string;
  /** node's arguments, run in the library's directory; `out` is a file the runner may write its report to. */
  command(out: string): string[];
  results(stdout: string, out: string): TestResult[];
  /** Logs `in the request` inside an HTTP request through the library, as one JSON line on stdout. */
  probe: string;
  /** Whether both runs preload a file that requires the library by name (see the top of this file). */
  preloadByName: boolean;
}

const SUITES: Record<string, Suite> = {
  pino: {
    name: 'pino',
    // The borp run of pino's `test-ci` script without coverage thresholds; lint and type tests left out.
    command: () => ['node_modules/.bin/borp', '--timeout', '60000', '--reporter', 'tap'],
    results: (stdout) => parseTap(stdout),
    preloadByName: true,
    probe: `const pino = require('pino');
const logger = pino({}, process.stdout);
logInsideRequest((message) => logger.info(message));`,
  },
  winston: {
    name: 'winston',
    // --forceExit: here jest reports and then waits on handles left open by the tests, bare as with the loader.
    // (jest's own --json changes the results: 3 of winston's console tests fail in that mode, bare.)
    command: (out) => ['node_modules/.bin/jest', '--ci', '--forceExit', '-c', writeWinstonJestConfig(out)],
    results: (_stdout, out) => parseJestJson(readFileSync(out, 'utf8')),
    // jest loads the tests' modules through its own registry, never through Module.prototype.require:
    // no require hook (ours, require-in-the-middle's) reaches the winston the tests use, preloaded or not.
    // The run shows that the loader in jest's processes changes no result; the e2e tests cover the instrumentation.
    preloadByName: false,
    probe: `const winston = require('winston');
const logger = winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Console()] });
logInsideRequest((message) => logger.info(message));`,
  },
};

/**
 * winston's jest config, run from under node_modules/ (jest skips node_modules
 * paths unless told to keep them), with a reporter that writes the results
 * to `out` in the shape of jest's --json report.
 */
function writeWinstonJestConfig(out: string): string {
  const reporter = path.join(SUITES_DIR, 'jest-results-file-reporter.js');
  writeFileSync(
    reporter,
    `module.exports = class {
  constructor(globalConfig, options) { this.out = options.out; }
  onRunComplete(contexts, results) {
    const testResults = results.testResults.map((file) => ({
      name: file.testFilePath,
      message: file.failureMessage || '',
      assertionResults: file.testResults.map((test) => ({ fullName: test.fullName, status: test.status, failureMessages: test.failureMessages })),
    }));
    require('node:fs').writeFileSync(this.out, JSON.stringify({ testResults }));
  }
};
`,
  );
  const file = path.join(SUITES_DIR, 'winston-jest.config.js');
  writeFileSync(
    file,
    `const root = ${JSON.stringify(path.join(SUITES_DIR, 'node_modules', 'winston'))};
module.exports = {
  ...require(root + '/jest.config.js'),
  rootDir: root,
  haste: { retainAllFiles: true },
  testPathIgnorePatterns: ['/node_modules/winston/node_modules/'],
  collectCoverage: false,
  reporters: ['default', [${JSON.stringify(reporter)}, { out: ${JSON.stringify(out)} }]],
};
`,
  );
  return file;
}

/** Tests of different files may share a name: the second is "name (2)". */
function withUniqueNames(results: TestResult[]): TestResult[] {
  const seen = new Map<string, number>();
  return results.map((result) => {
    const count = (seen.get(result.name) ?? 0) + 1;
    seen.set(result.name, count);
    return count === 1 ? result : { ...result, name: `${result.name} (${count})` };
  });
}

const PROBE_PRELUDE = `const http = require('node:http');
function logInsideRequest(log) {
  const server = http.createServer((request, response) => { log('in the request'); response.end(); });
  server.listen(0, '127.0.0.1', async () => {
    await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
    server.close();
  });
}
`;

/** node's TAP reporter: "# Subtest: name" opens a test, "[not ]ok N - name" closes it; leaves are tests without subtests. */
export function parseTap(tap: string): TestResult[] {
  const lines = tap.split('\n');
  const stack: string[] = [];
  const hasChild: boolean[] = [];
  const results: TestResult[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const subtest = /^( *)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      const level = subtest[1]!.length / 4;
      stack.length = level;
      stack.push(subtest[2]!);
      hasChild[level] = false;
      continue;
    }
    const result = /^( *)(not ok|ok) \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (!result) continue;
    const level = result[1]!.length / 4;
    if (level > 0) hasChild[level - 1] = true;
    if (hasChild[level]) continue;
    let detail = '';
    if (result[2] === 'not ok') {
      const end = lines.findIndex((text, j) => j > i && /^ *\.\.\.$/.test(text));
      detail = lines.slice(i + 1, end === -1 ? i + 80 : end).join('\n');
    }
    results.push({ name: [...stack.slice(0, level), result[3]!].join(' > '), passed: result[2] === 'ok', detail });
  }
  return results;
}

interface JestReport {
  testResults: { name: string; message: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

export function parseJestJson(json: string): TestResult[] {
  const report = JSON.parse(json) as JestReport;
  const results: TestResult[] = [];
  for (const file of report.testResults) {
    const relative = path.relative(path.join(SUITES_DIR, 'node_modules'), file.name);
    // A file that fails to run has no assertions: count it as one failed test.
    if (file.assertionResults.length === 0) results.push({ name: relative, passed: file.message === '', detail: file.message });
    for (const test of file.assertionResults) {
      if (test.status === 'pending' || test.status === 'todo' || test.status === 'skipped' || test.status === 'disabled') continue;
      results.push({ name: `${relative} > ${test.fullName}`, passed: test.status === 'passed', detail: test.failureMessages.join('\n') });
    }
  }
  return results;
}

interface Run {
  stdout: string;
  stderr: string;
}

let runs = 0;

/**
 * Runs node asynchronously (the OTLP sink in this process must keep
 * answering), killed after timeoutMs. Output goes to files, as in
 * `npm test > log`, and is read back once the run is over.
 */
function runNode(args: string[], cwd: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<Run> {
  const files = ['stdout', 'stderr'].map((name) => path.join(SUITES_DIR, `.run-${process.pid}-${++runs}.${name}`));
  const fds = files.map((file) => openSync(file, 'w'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', fds[0]!, fds[1]!], timeout: timeoutMs });
    child.on('close', () => {
      for (const fd of fds) closeSync(fd);
      const [stdout, stderr] = files.map((file) => readFileSync(file, 'utf8'));
      for (const file of files) rmSync(file);
      resolve({ stdout: stdout!, stderr: stderr! });
    });
  });
}

/** An OTLP/HTTP endpoint that accepts every export and counts the requests: the loader's spans go somewhere, and we see that they came. */
async function startOtlpSink(): Promise<{ endpoint: string; exports: () => number; close: () => void }> {
  let count = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url === '/v1/traces') count++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, exports: () => count, close: () => server.close() };
}

interface Settings {
  libraryDir: string;
  bareOptions: string;
  loaderOptions: string;
  /** Loader environment: exports to the sink. */
  loaderEnv: Record<string, string>;
}

function envFor(libraryDir: string, nodeOptions: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  // The library's own tools (tsc, jest) first, then this checkout's (node 24).
  return { ...process.env, PATH: `${path.join(libraryDir, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`, NODE_OPTIONS: nodeOptions, ...extra };
}

async function runSuite(suite: Suite, settings: Settings, label: 'bare' | 'loader'): Promise<TestResult[]> {
  const out = path.join(SUITES_DIR, `${suite.name}-${label}.json`);
  rmSync(out, { force: true });
  const started = Date.now();
  const env = label === 'bare' ? envFor(settings.libraryDir, settings.bareOptions) : envFor(settings.libraryDir, settings.loaderOptions, settings.loaderEnv);
  const run = await runNode(suite.command(out), settings.libraryDir, env, RUN_TIMEOUT_MS);
  writeFileSync(path.join(SUITES_DIR, `${suite.name}-${label}.log`), `${run.stdout}\n${run.stderr}`);
  const results = withUniqueNames(suite.results(run.stdout, out));
  const failed = results.filter((result) => !result.passed).length;
  console.log(`${suite.name} ${label}: ${results.length - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return results;
}

type Verdict = 'correlation' | 'flaky' | 'loader';

/**
 * A loader-only failure of pino's suite, rerun alone (its file with node --test):
 * 'flaky' when it passes in one of two reruns with the loader; 'correlation'
 * when it fails in both and passes twice with the pino instrumentation off
 * (all it does is add the correlation fields); 'loader' otherwise.
 */
async function judge(suite: Suite, settings: Settings, result: TestResult): Promise<Verdict> {
  const file = /location: '([^']+):\d+:\d+'/.exec(result.detail)?.[1];
  if (file === undefined) return 'loader';
  const leafName = result.name.replace(/ \(\d+\)$/, '');
  const passedIn = (runs: TestResult[][]) => runs.map((run) => run.some((again) => again.name === leafName && again.passed));
  const withLoader = passedIn(await rerunFile(file, settings, '', 2));
  if (withLoader.some(Boolean)) return 'flaky';
  const withoutInstrumentation = passedIn(await rerunFile(file, settings, suite.name, 2));
  return withoutInstrumentation.every(Boolean) ? 'correlation' : 'loader';
}

/** One rerun serves every failure of the same file. */
const reruns = new Map<string, Promise<TestResult[][]>>();

function rerunFile(file: string, settings: Settings, disabledInstrumentations: string, times: number): Promise<TestResult[][]> {
  const key = `${file}\0${disabledInstrumentations}`;
  let runs = reruns.get(key);
  if (runs === undefined) {
    runs = (async () => {
      const results: TestResult[][] = [];
      for (let i = 0; i < times; i++) {
        const disabled: Record<string, string> = disabledInstrumentations === '' ? {} : { OTEL_NODE_DISABLED_INSTRUMENTATIONS: disabledInstrumentations };
        const env = envFor(settings.libraryDir, settings.loaderOptions, { ...settings.loaderEnv, ...disabled });
        const run = await runNode(['--test', '--test-reporter=tap', '--test-timeout=10000', file], settings.libraryDir, env, 120_000);
        results.push(parseTap(run.stdout));
      }
      return results;
    })();
    reruns.set(key, runs);
  }
  return runs;
}

/** Runs the probe with the loader; true when the line logged inside the request has the span's ids. */
async function loaderInstrumentsLibrary(suite: Suite, nodeOptions: string): Promise<boolean> {
  const probeFile = path.join(SUITES_DIR, `probe-${suite.name}.cjs`);
  writeFileSync(probeFile, `${PROBE_PRELUDE}${suite.probe}\n`);
  const run = await runNode([probeFile], SUITES_DIR, { ...process.env, NODE_OPTIONS: nodeOptions, OTEL_TRACES_EXPORTER: 'none' }, 30_000);
  return /"trace_id":"[0-9a-f]{32}"/.test(run.stdout);
}

/**
 * Requires the library by name as an app does (that loads its
 * instrumentation), then forgets it: several test files mock os.hostname or
 * process.pid before they require the library, and must get a fresh copy.
 */
function writePreload(name: string): string {
  const preload = path.join(SUITES_DIR, `require-${name}-by-name.cjs`);
  writeFileSync(
    preload,
    `require(${JSON.stringify(name)});
for (const file of Object.keys(require.cache)) if (file.includes(${JSON.stringify(`${path.sep}node_modules${path.sep}${name}${path.sep}`)})) delete require.cache[file];
`,
  );
  return preload;
}

async function main(): Promise<void> {
  if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run npm run build first`);
  mkdirSync(SUITES_DIR, { recursive: true });
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SUITES);
  const sink = await startOtlpSink();
  let realFailures = 0;
  try {
    for (const name of names) {
      const suite = SUITES[name];
      if (suite === undefined) throw new Error(`no suite named ${name} (known: ${Object.keys(SUITES).join(', ')})`);
      const libraryDir = path.join(SUITES_DIR, 'node_modules', name);
      if (!existsSync(path.join(libraryDir, 'node_modules'))) {
        console.log(`${name}: skipped, ${libraryDir} is not prepared (see the comment at the top of this script)`);
        continue;
      }
      const version = (JSON.parse(readFileSync(path.join(libraryDir, 'package.json'), 'utf8')) as { version: string }).version;
      const preload = writePreload(name);
      const bareOptions = suite.preloadByName ? `--require ${preload}` : '';
      const settings: Settings = {
        libraryDir,
        bareOptions,
        loaderOptions: `--require ${REGISTER} ${bareOptions}`.trim(),
        loaderEnv: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_SERVICE_NAME: `${name}-suite` },
      };
      if (!(await loaderInstrumentsLibrary(suite, `--require ${REGISTER} --require ${preload}`))) {
        throw new Error(`${name}: the probe logged no correlation fields with the loader: it is not active or not instrumenting ${name}`);
      }
      console.log(`${name} ${version}: the loader is active and instruments it (probe)`);
      const bare = await runSuite(suite, settings, 'bare');
      const exportsBefore = sink.exports();
      const traced = await runSuite(suite, settings, 'loader');
      console.log(`${name} loader: ${sink.exports() - exportsBefore} span exports received from its processes`);
      const bareByName = new Map(bare.map((result) => [result.name, result.passed]));
      const loaderOnly = traced.filter((result) => !result.passed && bareByName.get(result.name) !== false);
      const verdicts = new Map<TestResult, Verdict>();
      for (const result of loaderOnly) verdicts.set(result, suite.preloadByName ? await judge(suite, settings, result) : 'loader');
      const count = (verdict: Verdict) => [...verdicts.values()].filter((v) => v === verdict).length;
      console.log(`${name}: ${loaderOnly.length} loader-only failures: ${count('correlation')} from the correlation fields, ${count('flaky')} flaky (passed on a rerun with the loader), ${count('loader')} other`);
      for (const [result, verdict] of verdicts) console.log(`  [${verdict}] ${result.name}`);
      realFailures += count('loader');
    }
  } finally {
    sink.close();
  }
  process.exitCode = realFailures === 0 ? 0 : 1;
}

void main();
