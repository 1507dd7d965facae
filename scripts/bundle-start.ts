/**
 * Part of `npm run build`, after tsc: rewrites dist/src/start.js as one file
 * holding our code and the SDK core packages it loads at every start-up, and
 * dist/register.js as one file with the checks made before it.
 * Node then reads, resolves and compiles one file instead of ~170, the
 * largest part of the loader's start-up cost. Everything loaded lazily
 * (instrumentations, exporters, optional propagators, import-in-the-middle)
 * stays a require() of the installed package. See src/bundled-packages.ts for
 * how instrumentations share the bundled API.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const ENTRY = path.join(REPO_ROOT, 'dist', 'src', 'start.js');
const BUNDLED = [
  '@opentelemetry/api',
  '@opentelemetry/core',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/resources',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/semantic-conventions',
  // Metrics are on by default, so the MeterProvider loads at every start too.
  '@opentelemetry/sdk-metrics',
];
/**
 * sdk-metrics 3.1.0 pins core and resources 3.1.0 (a nested copy); the bundle
 * gives it the top-level 3.1.x ones instead of a second copy of each.
 */
const SHARED_IN_BUNDLE = ['@opentelemetry/core', '@opentelemetry/resources'];

const versions = Object.fromEntries(
  BUNDLED.map((name) => [name, (JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version]),
);

/** Bare specifiers outside BUNDLED stay require()s, resolved at run time from the user's node_modules (`#…` are a bundled package's own imports). */
const keepOthersExternal: Plugin = {
  name: 'keep-others-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./#]/ }, (args) => {
      const shared = SHARED_IN_BUNDLE.find((name) => args.path === name);
      if (shared !== undefined && args.resolveDir.includes(`${path.sep}node_modules${path.sep}@opentelemetry${path.sep}sdk-metrics${path.sep}`)) {
        return { path: createRequire(path.join(REPO_ROOT, 'package.json')).resolve(shared) };
      }
      const isBundled = BUNDLED.some((name) => args.path === name || args.path.startsWith(`${name}/`));
      return isBundled ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * Two changes to core's attribute sanitizing (behind every span attribute the
 * SDK checks: twice per attribute at span start, once per setAttribute), same
 * answers, fewer allocations:
 * - isAnyValue allocates a WeakSet for cycle detection even for a string or a
 *   number: primitives are answered first; objects and arrays still take the
 *   cycle-checked path.
 * - cleanAttributes walks Object.entries(), an array per attribute and one
 *   more per call: own keys are walked with for…in and Object.hasOwn, in the
 *   same order.
 * A core whose text differs fails the build rather than ship unpatched unnoticed.
 */
const CORE_ATTRIBUTE_PATCHES: readonly (readonly [string, string])[] = [
  [
    'function isAnyValue(val) {\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
    'function isAnyValue(val) {\n\tconst type = typeof val;\n\tif (type === "string" || type === "number" || type === "boolean") return true;\n\treturn isAnyValueInternal(val, /* @__PURE__ */ new WeakSet());\n}',
  ],
  [
    '\tfor (const [key, val] of Object.entries(inAttributes)) {\n',
    '\tfor (const key in inAttributes) {\n\t\tif (!Object.hasOwn(inAttributes, key)) continue;\n\t\tconst val = inAttributes[key];\n',
  ],
];
const leanAttributeChecks: Plugin = {
  name: 'lean-attribute-checks',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]@opentelemetry[\\/]core[\\/]dist[\\/]common[\\/]attributes\.cjs$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      for (const [from, to] of CORE_ATTRIBUTE_PATCHES) {
        if (source.split(from).length !== 2) throw new Error(`${args.path}: not the attribute code scripts/bundle-start.ts patches (${JSON.stringify(from.trim())}); review the patches for this core version`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: [ENTRY],
  outfile: ENTRY,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  plugins: [keepOthersExternal, leanAttributeChecks],
  define: { BUNDLED_PACKAGE_VERSIONS: JSON.stringify(versions) },
  logLevel: 'warning',
  // readOwnVersion and the lazy loader require() computed names on purpose.
  logOverride: { 'unsupported-require-call': 'silent' },
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
// stderr: npm pack --json (tests, bench) reads stdout.
console.error(`dist/src/start.js: one file from ${inputs} modules (${Object.entries(versions).map(([name, version]) => `${name.replace('@opentelemetry/', '')} ${version}`).join(', ')})`);

// The entry itself: every process with the flag reads it, OTEL_SDK_DISABLED=true
// ones too, so its few checks come as one file. start.js stays a separate,
// lazily required file.
const REGISTER = path.join(REPO_ROOT, 'dist', 'register.js');
const keepStartExternal: Plugin = {
  name: 'keep-start-external',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/src\/start\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
const entry = await build({
  entryPoints: [REGISTER],
  outfile: REGISTER,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  plugins: [keepStartExternal],
  logLevel: 'warning',
  metafile: true,
});
console.error(`dist/register.js: one file from ${Object.keys(entry.metafile.inputs).length} modules`);
