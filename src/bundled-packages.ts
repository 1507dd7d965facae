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
 * resolve one to the very version in the bundle, the bundled module is put
 * in require's cache under that file name, so they share it (one API
 * instance, no second load). Any other version loads from disk as usual.
 */
export function shareBundledPackages(): void {
  if (typeof BUNDLED_PACKAGE_VERSIONS === 'undefined') return;
  for (const [name, exports] of Object.entries(SHARED_WITH_INSTRUMENTATIONS)) {
    try {
      const entry = require.resolve(name);
      if (require.cache[entry] !== undefined || installedVersion(entry, name) !== BUNDLED_PACKAGE_VERSIONS[name]) continue;
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

function installedVersion(entry: string, name: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const root = entry.lastIndexOf(marker);
  if (root < 0) return undefined;
  const manifest = JSON.parse(readFileSync(path.join(entry.slice(0, root + marker.length), 'package.json'), 'utf8')) as { version?: string };
  return manifest.version;
}
