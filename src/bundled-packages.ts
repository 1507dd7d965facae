import { readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import * as semanticConventions from '@opentelemetry/semantic-conventions';

/** Set by scripts/bundle-start.ts when dist/src/start.js is built as one bundle; absent when run unbundled. */
declare const BUNDLED_PACKAGE_VERSIONS: Readonly<Record<string, string>> | undefined;

/** The bundled packages that instrumentations, loaded later from node_modules, require too. */
const SHARED_WITH_INSTRUMENTATIONS: Readonly<Record<string, unknown>> = {
  '@opentelemetry/api': api,
  '@opentelemetry/core': core,
  '@opentelemetry/semantic-conventions': semanticConventions,
};

/**
 * The built start.js is one bundle holding the SDK's core packages, so a
 * start-up reads one file instead of ~170. Instrumentations load later from
 * node_modules and require some of the same packages: where Node would
 * resolve one to a version the bundle can stand in for (see
 * bundleCanStandIn), the bundled module is put in require's cache under that
 * file name, so they share it (one API instance, no second load). Any other
 * version loads from disk as usual.
 */
export function shareBundledPackages(): void {
  shareBundledPackagesFrom(undefined);
}

/**
 * The same for the copies nested under one instrumentation package: upstream
 * pins exact versions, so instrumentation-http 0.301.0 brings its own core
 * 3.1.0 beside our bundled 3.1.1, about 30 more files (tens of ms) at the
 * start of every app that serves HTTP.
 */
export function shareBundledPackagesWith(packageName: string): void {
  try {
    const entry = require.resolve(packageName);
    const root = packageRoot(entry, packageName);
    if (root !== undefined) shareBundledPackagesFrom(root);
  } catch {
    // Not resolvable: the require that follows reports it.
  }
}

function shareBundledPackagesFrom(directory: string | undefined): void {
  if (typeof BUNDLED_PACKAGE_VERSIONS === 'undefined') return;
  for (const [name, exports] of Object.entries(SHARED_WITH_INSTRUMENTATIONS)) {
    try {
      const entry = directory === undefined ? require.resolve(name) : require.resolve(name, { paths: [directory] });
      if (require.cache[entry] !== undefined || !bundleCanStandIn(BUNDLED_PACKAGE_VERSIONS[name], installedVersion(entry, name))) continue;
      const module = new Module(entry);
      module.filename = entry;
      module.exports = exports;
      module.loaded = true;
      require.cache[entry] = module;
    } catch {
      // Not installed where we can see it: dependents load their own copy.
    }
  }
}

/**
 * The bundled version serves a dependent that asked for `installed` when both
 * are the same major.minor and the bundle's patch is the same or newer: a
 * patch release only fixes bugs, and upstream's instrumentations pin exact
 * versions that trail the SDK's by a patch.
 */
export function bundleCanStandIn(bundled: string | undefined, installed: string | undefined): boolean {
  if (bundled === undefined || installed === undefined) return false;
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(bundled);
  const want = /^(\d+)\.(\d+)\.(\d+)$/.exec(installed);
  if (have === null || want === null) return bundled === installed;
  return have[1] === want[1] && have[2] === want[2] && Number(have[3]) >= Number(want[3]);
}

function packageRoot(entry: string, name: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const root = entry.lastIndexOf(marker);
  return root < 0 ? undefined : entry.slice(0, root + marker.length);
}

function installedVersion(entry: string, name: string): string | undefined {
  const root = packageRoot(entry, name);
  if (root === undefined) return undefined;
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };
  return manifest.version;
}
