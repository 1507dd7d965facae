/**
 * `npm run build:k8s`: the OpenTelemetry Operator's Node.js image content,
 * k8s/autoinstrumentation/ with autoinstrumentation.js at its top. The
 * Operator copies it into an emptyDir (200Mi by default) and appends
 * `--require <dir>/autoinstrumentation.js` to NODE_OPTIONS.
 *
 * Built from what users install: the packed tarball, installed with
 * production dependencies only. Each package the loader may require at run
 * time (an instrumentation, an exporter, a propagator, an SDK package) becomes
 * one bundled file at the very path the installed tree has it, so Node
 * resolves every require() exactly as in the installed tree (nested versions
 * included), instrumentations still load only when their module is first
 * required, and ~15,000 files become ~170. Packages that must stay one
 * instance (@opentelemetry/*: the API's globals, the require hook singleton;
 * import-in-the-middle: its ES module hooks are loaded by URL) are never
 * inlined into another bundle; every other dependency is inlined into the
 * bundles that use it.
 *
 *   node k8s/build.mts [--tarball <file.tgz>] [--out <dir>]
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const { values: options } = parseArgs({ options: { tarball: { type: 'string' }, out: { type: 'string' } } });
const OUT = path.resolve(options.out ?? path.join(REPO_ROOT, 'k8s', 'autoinstrumentation'));
const STAGE = path.join(REPO_ROOT, '.work', 'k8s-stage');

/** One instance per process: never inlined, each built (or copied) once at its installed path. */
const isShared = (name: string) => name.startsWith('@opentelemetry/') || name === 'import-in-the-middle';
/** ES module hooks that Node loads by URL (module.register) and their imports: copied as they are. */
const COPIED_AS_FILES = new Set(['import-in-the-middle']);
/** See SHARED_WITH_INSTRUMENTATIONS in src/bundled-packages.ts. */
const VERSION_CHECKED = new Set(['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/semantic-conventions']);
const readVersion = (root: string) => (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const RUNTIME_FILE = /\.(c|m)?js$|\.json$|^LICENSE/;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The package directory holding a resolved file: the part up to its last node_modules/<name>. */
function packageRootOf(file: string): string {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  const rest = file.slice(at + marker.length).split(path.sep);
  return file.slice(0, at + marker.length) + (rest[0]!.startsWith('@') ? path.join(rest[0]!, rest[1]!) : rest[0]!);
}

/** Where Node finds package `name` from `directory` (resolving its package.json may be barred by "exports"). */
function installedPackageDir(directory: string, name: string): string {
  const lookupPaths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(directory);
  const found = lookupPaths.map((base) => path.join(base, name)).find((candidate) => existsSync(path.join(candidate, 'package.json')));
  if (found === undefined) throw new Error(`${name} is not installed where ${directory} can see it`);
  return found;
}

const resolveFrom = (directory: string, specifier: string) => createRequire(path.join(directory, 'noop.js')).resolve(specifier);

function installStage(): string {
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(STAGE, { recursive: true });
  const tarball = options.tarball !== undefined ? path.resolve(options.tarball) : path.join(STAGE, (JSON.parse(npm(['pack', '--json', '--pack-destination', STAGE], REPO_ROOT)) as { filename: string }[])[0]!.filename);
  writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify({ name: 'k8s-stage', private: true, dependencies: { '@acme/otel-register': `file:${tarball}` } }));
  npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], STAGE);
  const installed = path.join(STAGE, 'node_modules', '@acme', 'otel-register');
  // Our files sit at the top of OUT, so they must resolve packages from the top node_modules only.
  if (existsSync(path.join(installed, 'node_modules'))) throw new Error(`${installed}/node_modules exists: a dependency could not be hoisted`);
  return installed;
}

interface Request {
  specifier: string;
  /** The installed package directory (or our own) that requires it. */
  from: string;
}

const installed = installStage();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, 'src', 'lifecycle'), { recursive: true });
const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
/** Where a directory of the installed tree lands in OUT: our package's files at the top. */
const outPathOf = (stagePath: string) => (stagePath.startsWith(installed) ? path.join(OUT, path.relative(path.join(installed, 'dist'), stagePath)) : path.join(OUT, path.relative(STAGE, stagePath)));

const queue: Request[] = [];
const done = new Set<string>();
/** A bare import in a bundle stays a require() when Node would resolve it from the bundle's place to the same file. */
function externalizeShared(owner: string): Plugin {
  return {
    name: 'externalize-shared',
    setup(builder) {
      builder.onResolve({ filter: /^[^./#]/ }, (args) => {
        if (Module.isBuiltin(args.path)) return { path: args.path, external: true };
        if (!isShared(packageNameOf(args.path))) return undefined;
        let wanted: string;
        try {
          wanted = resolveFrom(args.resolveDir, args.path);
        } catch {
          // Not installed (an optional peer): the require() fails at run time as it would in the installed tree.
          return { path: args.path, external: true };
        }
        if (resolveFrom(owner, args.path) !== wanted) return undefined;
        queue.push({ specifier: args.path, from: owner });
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(entry: string, outfile: string, owner: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    plugins: [externalizeShared(owner)],
    logLevel: 'error',
  });
}

// Our entry, start-up bundle and exit-flush worker, at the places they expect each other.
// start.js already holds the SDK core; its other requires are what the queue starts with.
cpSync(path.join(installed, 'dist', 'register.js'), path.join(OUT, 'autoinstrumentation.js'));
cpSync(path.join(installed, 'dist', 'src', 'start.js'), path.join(OUT, 'src', 'start.js'));
// Each signal's exit-flush worker, started by file name (src/lifecycle/exit-flush.ts: workerFile).
for (const worker of readdirSync(path.join(installed, 'dist', 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => path.basename(file) === 'exit-flush-worker.js')) {
  await bundle(path.join(installed, 'dist', 'src', worker), path.join(OUT, 'src', worker), installed);
}
// Our subclasses of upstream instrumentations, each loaded from its own file when its module is first required.
const { INSTRUMENTATIONS } = createRequire(import.meta.url)(path.join(installed, 'dist', 'src', 'instrumentations', 'table.js')) as typeof import('../src/instrumentations/table.ts');
for (const file of new Set(INSTRUMENTATIONS.flatMap((entry) => (entry.implementation === undefined ? [] : [entry.implementation.file])))) {
  await bundle(path.join(installed, 'dist', 'src', 'instrumentations', `${file}.js`), path.join(OUT, 'src', 'instrumentations', `${file}.js`), installed);
}
writeFileSync(path.join(OUT, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, private: true }, null, 2));
const startSource = readFileSync(path.join(OUT, 'src', 'start.js'), 'utf8');
const requiredByStart = [...startSource.matchAll(/require\("([^".][^"]*)"\)/g)].map((match) => match[1]!).filter((name) => !Module.isBuiltin(name));
// Instrumentations and optional propagators are required by computed names: every dependency may be.
for (const specifier of new Set([...requiredByStart, ...Object.keys(manifest.dependencies)])) queue.push({ specifier, from: installed });

function copyPackage(root: string): void {
  if (done.has(root)) return;
  done.add(root);
  const target = outPathOf(root);
  cpSync(root, target, { recursive: true, filter: (source) => statSync(source).isDirectory() ? path.basename(source) !== 'node_modules' || source === root : RUNTIME_FILE.test(path.basename(source)) });
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(dependencies)) copyPackage(installedPackageDir(root, name));
}

while (queue.length > 0) {
  const { specifier, from } = queue.shift()!;
  const name = packageNameOf(specifier);
  const file = resolveFrom(from, specifier);
  const root = packageRootOf(file);
  if (COPIED_AS_FILES.has(name)) {
    copyPackage(root);
    continue;
  }
  if (done.has(file)) continue;
  done.add(file);
  const subpath = specifier.slice(name.length + 1);
  const outDir = outPathOf(root);
  const outfile = subpath === '' ? path.join(outDir, 'index.js') : path.join(outDir, /\.(c|m)?js$/.test(subpath) ? subpath : `${subpath}.js`);
  mkdirSync(outDir, { recursive: true });
  // No package.json needed (require() finds index.js), except for a version where
  // src/bundled-packages.ts compares it, to share what start.js already holds.
  if (VERSION_CHECKED.has(name)) writeFileSync(path.join(outDir, 'package.json'), JSON.stringify({ name, version: readVersion(root) }));
  await bundle(file, outfile, root);
}

// The init container copies as whatever user it runs as; any user must read it.
let files = 0;
let bytes = 0;
(function makeReadable(directory: string) {
  chmodSync(directory, 0o755);
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) makeReadable(full);
    else {
      chmodSync(full, 0o644);
      files++;
      bytes += statSync(full).size;
    }
  }
})(OUT);
console.error(`${path.relative(process.cwd(), OUT) || OUT}: ${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MB`);
