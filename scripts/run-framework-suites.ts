/**
 * Runs the frameworks' own test suites bare and then with the loader
 * preloaded, and prints pass/fail counts for both and the tests that fail
 * only with the loader. Not part of `npm test`: the sources come from GitHub,
 * which CI cannot reach. Usage (after `npm run build`):
 *
 *   node scripts/run-framework-suites.ts [express] [koa] [router] [--dist=<built dist/ to test>]
 *
 * Expects each suite's sources, with their devDependencies installed
 * (`npm install --ignore-scripts`), in framework-suites/<name> (git-ignored):
 *   express  github:expressjs/express   (mocha)
 *   koa      github:koajs/koa           (node --test)
 *   router   github:koajs/router        (@koa/router; node --test with ts-node)
 * The loader instruments packages under node_modules only, so express and koa
 * are copied to framework-suites/<name>/node_modules/<name> and their tests run
 * from there; @koa/router's tests import koa from node_modules. Spans go to a
 * local OTLP receiver: the loader counts as active only if express or koa
 * spans arrive.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
// Not under .work/: express's send() answers 404 for files below a dot directory.
const SUITES_DIR = path.join(REPO_ROOT, 'framework-suites');
// A copy of dist/, so that a rebuild (npm test packs) during a long run does not pull the loader away.
const DIST_COPY = path.join(SUITES_DIR, 'dist-under-test');
const REGISTER = path.join(DIST_COPY, 'register.js');
const TIMEOUT_MS = 15 * 60_000;

interface Counts {
  pass: number;
  fail: number;
  failing: string[];
}

interface Suite {
  name: string;
  /** The framework's scope whose spans prove the loader was active. */
  scope: string;
  prepare(source: string): string;
  command(cwd: string, resultFile: string): string[];
  /** A module to require by bare name so that the lazy loader instruments it (tests require it by path). */
  preload?: string;
  parse(resultFile: string): Counts;
  env?: Record<string, string>;
}

/** Copies the package into <suite>/node_modules/<name> so the loader treats it as installed. */
function copyIntoNodeModules(source: string, name: string, entries: string[]): string {
  const target = path.join(source, 'node_modules', name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const entry of entries) if (existsSync(path.join(source, entry))) cpSync(path.join(source, entry), path.join(target, entry), { recursive: true });
  return target;
}

function parseTap(file: string): Counts {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const number = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  // Failed tests, not the suites and files around them (their YAML block says type: 'suite').
  const failing = [...text.matchAll(/^(\s*)not ok \d+ - (.*)\n(?:\1  .*\n)*?\1  type: '(\w+)'/gm)].filter((match) => match[3] === 'test').map((match) => match[2]!.trim());
  return { pass: number('pass'), fail: number('fail'), failing };
}

function parseMochaJson(file: string): Counts {
  if (!existsSync(file)) return { pass: NaN, fail: NaN, failing: [] };
  const result = JSON.parse(readFileSync(file, 'utf8')) as { stats: { passes: number; failures: number }; failures: { fullTitle: string }[] };
  return { pass: result.stats.passes, fail: result.stats.failures, failing: result.failures.map((failure) => failure.fullTitle) };
}

const SUITES: Suite[] = [
  {
    name: 'express',
    scope: '@opentelemetry/instrumentation-express',
    prepare: (source) => copyIntoNodeModules(source, 'express', ['index.js', 'lib', 'package.json', 'test', 'examples', 'LICENSE', 'Readme.md', 'History.md']),
    command: (_cwd, resultFile) => [
      path.join(SUITES_DIR, 'express', 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--require', 'test/support/env', '--check-leaks', '--exit', '--reporter', 'json', '--reporter-option', `output=${resultFile}`, 'test/', 'test/acceptance/',
    ],
    preload: 'express',
    parse: parseMochaJson,
  },
  {
    name: 'koa',
    scope: '@opentelemetry/instrumentation-koa',
    prepare: (source) => {
      const target = copyIntoNodeModules(source, 'koa', ['lib', 'package.json', '__tests__', 'test-helpers', 'dist', 'LICENSE', 'Readme.md', 'History.md']);
      if (!existsSync(path.join(target, 'dist', 'koa.mjs'))) {
        spawnSync(process.execPath, [path.join(source, 'node_modules', 'gen-esm-wrapper', 'gen-esm-wrapper.js'), '.', './dist/koa.mjs'], { cwd: target, stdio: 'inherit' });
      }
      return target;
    },
    command: (_cwd, resultFile) => ['--test', '--test-reporter=tap', `--test-reporter-destination=${resultFile}`, '__tests__/**/*.test.js'],
    preload: 'koa',
    parse: parseTap,
  },
  {
    name: 'router',
    scope: '@opentelemetry/instrumentation-koa',
    prepare: (source) => {
      if (!existsSync(path.join(source, 'dist', 'index.js'))) spawnSync('npx', ['tsup'], { cwd: source, stdio: 'inherit' });
      return source;
    },
    command: (_cwd, resultFile) => ['--require', 'ts-node/register', '--test', '--test-reporter=tap', `--test-reporter-destination=${resultFile}`, 'test/*.test.ts', 'test/**/*.test.ts', 'recipes/**/*.test.ts'],
    env: { TS_NODE_PROJECT: 'tsconfig.ts-node.json' },
    parse: parseTap,
  },
];

async function run(suite: Suite, cwd: string, withLoader: boolean, endpoint: string): Promise<Counts> {
  const resultFile = path.join(SUITES_DIR, `${suite.name}.${withLoader ? 'loader' : 'bare'}.result`);
  rmSync(resultFile, { force: true });
  const preloads: string[] = [];
  if (withLoader) {
    preloads.push(`--require ${REGISTER}`);
    if (suite.preload !== undefined) {
      // In the suite's directory, so that the name resolves to the suite's own copy.
      const preloadFile = path.join(SUITES_DIR, suite.name, `preload-${suite.name}.cjs`);
      writeFileSync(preloadFile, `// Requires ${suite.preload} by its bare name so the lazy loader instruments it.\nrequire(${JSON.stringify(suite.preload)});\n`);
      preloads.push(`--require ${preloadFile}`);
    }
  }
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...suite.env,
    NODE_OPTIONS: `--max-old-space-size=2048 ${preloads.join(' ')}`.trim(),
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: `suite-${suite.name}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const started = Date.now();
  // Not spawnSync: the receiver runs in this process and must keep answering the suite's exports.
  const child = spawn(process.execPath, suite.command(cwd, resultFile), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  clearTimeout(timer);
  const counts = suite.parse(resultFile);
  console.log(`${suite.name} ${withLoader ? 'loader' : 'bare  '}: ${counts.pass} pass, ${counts.fail} fail (exit ${code ?? signal}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (Number.isNaN(counts.pass)) console.log(stderr.slice(-3000));
  return counts;
}

// --dist=<dir>: the built loader to test (default dist/, e.g. another branch's build).
const distArgument = process.argv.slice(2).find((arg) => arg.startsWith('--dist='));
const distUnderTest = distArgument === undefined ? path.join(REPO_ROOT, 'dist') : path.resolve(distArgument.slice('--dist='.length));
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
if (!existsSync(path.join(distUnderTest, 'register.js'))) throw new Error(`${distUnderTest}/register.js is missing: npm run build first`);
rmSync(DIST_COPY, { recursive: true, force: true });
cpSync(distUnderTest, DIST_COPY, { recursive: true });
const receiver = await startOtlpReceiver();
let problems = 0;
try {
  for (const suite of SUITES) {
    if (requested.length > 0 && !requested.includes(suite.name)) continue;
    const source = path.join(SUITES_DIR, suite.name);
    if (!existsSync(path.join(source, 'node_modules'))) {
      console.log(`${suite.name}: no sources with node_modules in ${source}; skipped`);
      continue;
    }
    const cwd = suite.prepare(source);
    const bare = await run(suite, cwd, false, receiver.httpEndpoint);
    receiver.reset();
    const loaded = await run(suite, cwd, true, receiver.httpEndpoint);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const spans = receiver.spans.filter((span) => span.resource['service.name'] === `suite-${suite.name}`);
    const frameworkSpans = spans.filter((span) => span.scope.name === suite.scope).length;
    console.log(`${suite.name} loader active: ${spans.length} spans received, ${frameworkSpans} from ${suite.scope}`);
    const loaderOnly = loaded.failing.filter((title) => !bare.failing.includes(title));
    console.log(`${suite.name} loader-only failures: ${loaderOnly.length}${loaderOnly.map((title) => `\n  - ${title}`).join('')}`);
    if (loaderOnly.length > 0 || frameworkSpans === 0) problems++;
    receiver.reset();
  }
} finally {
  await receiver.close();
}
process.exit(problems === 0 ? 0 : 1);
