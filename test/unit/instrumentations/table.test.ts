import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { lambdaHandlerFilePattern } from '../../../src/instrumentations/aws-lambda.ts';
import { OWN_INSTRUMENTATIONS } from '../../../src/instrumentations/own.ts';
import { INSTRUMENTATIONS, UPSTREAM_SKIPPED, type InstrumentationEntry } from '../../../src/instrumentations/table.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const requireFromRepo = createRequire(path.join(REPO_ROOT, 'package.json'));

interface ModuleDefinition {
  name: string;
}
type InstrumentationClass = new (config: Record<string, unknown>) => { getModuleDefinitions(): ModuleDefinition[] };

function instrumentationClass(entry: InstrumentationEntry): InstrumentationClass {
  if (entry.own === true) return (OWN_INSTRUMENTATIONS as unknown as Record<string, InstrumentationClass>)[entry.exportName]!;
  return (requireFromRepo(entry.packageName) as Record<string, InstrumentationClass>)[entry.exportName]!;
}

/** The module names the instrumentation's own init() declares; enabled: false so nothing is patched. */
function declaredModules(entry: InstrumentationEntry, config: Record<string, unknown> = {}): string[] {
  const Instrumentation = instrumentationClass(entry);
  return new Instrumentation({ ...config, enabled: false }).getModuleDefinitions().map((definition) => definition.name);
}

/** Entries that are not triggered by the names their init() declares, and why. */
const NOT_BY_DECLARED_MODULE: Readonly<Record<string, string>> = {
  undici: 'listens on diagnostics channels; loaded by undici or the first read of globalThis.fetch',
  fastify: "ours: subscribes to Fastify's fastify.request.handler tracing channel; loaded by fastify",
  'aws-lambda': 'declares the handler file under LAMBDA_TASK_ROOT; loaded at start inside Lambda',
};

const AUTO_DIR = path.join(REPO_ROOT, 'node_modules', '@opentelemetry', 'auto-instrumentations-node');

/**
 * Upstream's InstrumentationMap (package name -> class name). It is not
 * exported, so it is read off the built file; the dependency list of the
 * package backs the reading up, so a change of bundler cannot make it empty.
 */
function upstreamInstrumentations(): Map<string, string> {
  const source = readFileSync(path.join(AUTO_DIR, 'dist', 'utils.cjs'), 'utf8');
  const map = /const InstrumentationMap = \{([^}]*)\}/.exec(source);
  assert.ok(map, 'InstrumentationMap found in auto-instrumentations-node/dist/utils.cjs');
  const found = new Map<string, string>();
  for (const match of map[1]!.matchAll(/"(@opentelemetry\/instrumentation-[^"]+)":\s*[\w$]+\.(\w+)/g)) found.set(match[1]!, match[2]!);
  return found;
}

describe('the instrumentation table', () => {
  it("lists for each instrumentation exactly the modules its own init() declares", () => {
    for (const entry of INSTRUMENTATIONS) {
      if (entry.name in NOT_BY_DECLARED_MODULE) continue;
      assert.deepEqual(new Set(declaredModules(entry)), new Set(entry.modules), `${entry.name}: modules in the table vs ${entry.packageName}'s init()`);
    }
  });

  it('exports every class it names', () => {
    for (const entry of INSTRUMENTATIONS) assert.equal(typeof instrumentationClass(entry), 'function', `${entry.packageName} exports ${entry.exportName}`);
  });

  it('has one entry per name and per target module', () => {
    const names = INSTRUMENTATIONS.map((entry) => entry.name);
    assert.equal(new Set(names).size, names.length);
    const modules = INSTRUMENTATIONS.flatMap((entry) => entry.modules);
    assert.equal(new Set(modules).size, modules.length, 'a module triggers one instrumentation only');
  });

  it('waits for no module name for aws-lambda, whose handler the runtime loads by path', () => {
    const lambda = INSTRUMENTATIONS.find((entry) => entry.name === 'aws-lambda')!;
    assert.deepEqual(lambda.modules, []);
    assert.equal(lambda.lambdaHandler, true);
    assert.equal(lambda.enabledByDefault, true, 'on by default as upstream has it; it loads only inside Lambda');
  });
});

describe('aws-lambda handler file', () => {
  it('outside Lambda upstream declares nothing to patch', () => {
    const saved = process.env.LAMBDA_TASK_ROOT;
    delete process.env.LAMBDA_TASK_ROOT;
    try {
      assert.deepEqual(declaredModules(INSTRUMENTATIONS.find((entry) => entry.name === 'aws-lambda')!, { lambdaHandler: 'index.handler' }), []);
    } finally {
      if (saved !== undefined) process.env.LAMBDA_TASK_ROOT = saved;
    }
  });

  for (const [handler, file] of [
    ['index.handler', 'index.mjs'],
    ['src/app.handler', 'src/app.js'],
    ['lib/nested/fn.main', 'lib/nested/fn.cjs'],
  ] as const) {
    it(`_HANDLER=${handler}: the ESM include pattern matches the file upstream patches (${file})`, () => {
      const taskRoot = mkdtempSync(path.join(os.tmpdir(), 'lambda-task-'));
      const saved = process.env.LAMBDA_TASK_ROOT;
      try {
        mkdirSync(path.dirname(path.join(taskRoot, file)), { recursive: true });
        writeFileSync(path.join(taskRoot, file), 'export const handler = async () => 1;\n');
        process.env.LAMBDA_TASK_ROOT = taskRoot;
        const [patched] = declaredModules(INSTRUMENTATIONS.find((entry) => entry.name === 'aws-lambda')!, { lambdaHandler: handler });
        assert.equal(patched, path.join(taskRoot, file));
        const pattern = lambdaHandlerFilePattern({ taskRoot, handler });
        assert.match(pathToFileURL(patched!).href, pattern);
        assert.doesNotMatch(pathToFileURL(path.join(taskRoot, `${file}.bak`)).href, pattern);
        assert.doesNotMatch(pathToFileURL(path.join(taskRoot, 'other', file)).href, pattern);
      } finally {
        if (saved === undefined) delete process.env.LAMBDA_TASK_ROOT;
        else process.env.LAMBDA_TASK_ROOT = saved;
        rmSync(taskRoot, { recursive: true, force: true });
      }
    });
  }
});

describe('coverage of @opentelemetry/auto-instrumentations-node', () => {
  const upstream = upstreamInstrumentations();
  const ours = new Map(INSTRUMENTATIONS.filter((entry) => entry.own !== true).map((entry) => [entry.packageName, entry]));

  it("reads upstream's whole list (it matches the package's instrumentation dependencies)", () => {
    const manifest = JSON.parse(readFileSync(path.join(AUTO_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const dependencies = Object.keys(manifest.dependencies).filter((name) => name.startsWith('@opentelemetry/instrumentation-'));
    assert.ok(upstream.size >= 40, `${upstream.size} instrumentations read`);
    assert.deepEqual([...upstream.keys()].sort(), dependencies.sort());
  });

  it('every upstream instrumentation is in our table or skipped with a reason', () => {
    const missing = [...upstream.keys()].filter((name) => !ours.has(name) && !(name.replace('@opentelemetry/instrumentation-', '') in UPSTREAM_SKIPPED));
    assert.deepEqual(missing, [], 'add these to src/instrumentations/table.ts, or to UPSTREAM_SKIPPED with the reason');
  });

  it('we load the class upstream loads', () => {
    for (const [packageName, className] of upstream) {
      const entry = ours.get(packageName);
      if (entry !== undefined) assert.equal(entry.exportName, className, packageName);
    }
  });

  it('the skip list names only upstream instrumentations we do not have, each with a reason', () => {
    for (const [name, reason] of Object.entries(UPSTREAM_SKIPPED)) {
      const packageName = `@opentelemetry/instrumentation-${name}`;
      assert.ok(upstream.has(packageName), `${name} is no longer upstream: drop it from UPSTREAM_SKIPPED`);
      assert.ok(!ours.has(packageName), `${name} is both in the table and skipped`);
      assert.ok(reason.length > 10, `${name} has a reason`);
    }
  });

  it('is on by default where upstream is, except the documented noisy ones', () => {
    // Upstream leaves only fs (and host-metrics) off; dns, net and router are ours (README, Instrumentations).
    const offByUs = INSTRUMENTATIONS.filter((entry) => !entry.enabledByDefault).map((entry) => entry.name).sort();
    assert.deepEqual(offByUs, ['dns', 'fs', 'net', 'router']);
  });

  it('depends on the version of each instrumentation that upstream 0.82.0 is built against, or newer', () => {
    const ownManifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const upstreamManifest = JSON.parse(readFileSync(path.join(AUTO_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const packageName of ours.keys()) {
      const range = upstreamManifest.dependencies[packageName];
      if (range === undefined) continue;
      const pinned = ownManifest.dependencies[packageName];
      assert.match(pinned ?? '', /^\d+\.\d+\.\d+$/, `${packageName} is pinned to an exact version`);
      const [floor, version] = [range.replace(/^\^/, ''), pinned!].map((v) => v.split('.').map(Number));
      assert.ok(version![0]! === floor![0]! && version![1]! >= floor![1]!, `${packageName} ${pinned} vs upstream ${range}`);
    }
  });
});
