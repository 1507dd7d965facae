/**
 * The Kubernetes and Cloud Run manifests in README.md are copied by users as
 * they stand: each must parse, and each OTEL_* / ACME_* name in them must be
 * one the loader reads (a typo would be silently ignored in a cluster).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { readConfig } from '../../src/config/index.ts';
import { REPO_ROOT } from '../support/app-dir.ts';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const manifests = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Every variable readConfig looks at, seen through a recording env. */
function variablesTheLoaderReads(): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') seen.add(name);
      return undefined;
    },
    has: (_target, name) => {
      if (typeof name === 'string') seen.add(name);
      return false;
    },
  });
  readConfig(env, () => {});
  // Read by the instrumentation itself, documented in README's table.
  seen.add('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT');
  return seen;
}

interface EnvEntry {
  name: string;
  value?: string;
}

/** `env:` lists and ConfigMap `data:` keys, anywhere in a document. */
function environmentIn(node: unknown, kind: unknown, found: EnvEntry[] = []): EnvEntry[] {
  if (Array.isArray(node)) {
    for (const item of node) environmentIn(item, kind, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'env' && Array.isArray(value)) found.push(...(value as EnvEntry[]));
      else if (key === 'data' && kind === 'ConfigMap') found.push(...Object.entries(value as Record<string, string>).map(([name, data]) => ({ name, value: data })));
      else environmentIn(value, kind, found);
    }
  }
  return found;
}

describe('manifests in README.md', () => {
  const read = variablesTheLoaderReads();

  it('there are manifests for Cloud Run, a plain Deployment with a ConfigMap, and the Operator', () => {
    const kinds = manifests.flatMap((text) => parseAllDocuments(text).map((document) => (document.toJS() as { kind?: string }).kind));
    for (const kind of ['Service', 'ConfigMap', 'Deployment', 'Instrumentation']) assert.ok(kinds.includes(kind), `a ${kind} in README (found ${kinds.join(', ')})`);
  });

  for (const [index, text] of manifests.entries()) {
    it(`manifest ${index + 1} parses and names only variables the loader reads`, () => {
      for (const document of parseAllDocuments(text)) {
        assert.deepEqual(document.errors.map(String), [], text);
        const manifest = document.toJS() as { apiVersion?: string; kind?: string };
        assert.ok(manifest.apiVersion && manifest.kind, `apiVersion and kind in:\n${String(document)}`);
        for (const entry of environmentIn(manifest, manifest.kind)) {
          assert.equal(typeof entry.name, 'string', `an env entry without a name in ${manifest.kind}`);
          if (/^(OTEL|ACME)_/.test(entry.name)) assert.ok(read.has(entry.name), `${manifest.kind}: ${entry.name} is not a variable the loader reads`);
          if (entry.name === 'NODE_OPTIONS') assert.match(entry.value ?? '', /--(import|require) @acme\/otel-register/);
        }
      }
    });
  }

  it('the check catches a misspelt variable', () => {
    assert.ok(read.has('OTEL_EXPORTER_OTLP_ENDPOINT') && read.has('ACME_OTEL_IGNORE_PATHS'));
    assert.ok(!read.has('OTEL_EXPORTER_OTLP_ENDPIONT'));
  });
});
