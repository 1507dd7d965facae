import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@opentelemetry/api';
import { readConfig } from '../../../src/config/index.ts';
import { createConfigFor } from '../../../src/instrumentations/configs.ts';
import { INSTRUMENTATIONS } from '../../../src/instrumentations/table.ts';

function configFor(name: string, env: Record<string, string> = {}): Record<string, unknown> {
  const entry = INSTRUMENTATIONS.find((e) => e.name === name)!;
  return createConfigFor(readConfig(env, () => {}))(entry);
}

/** Collects what a hook sets; the rest of the Span API is not used by our hooks. */
function recordingSpan(): { span: Span; attributes: Record<string, unknown> } {
  const attributes: Record<string, unknown> = {};
  const span = { setAttribute: (key: string, value: unknown) => (attributes[key] = value) } as unknown as Span;
  return { span, attributes };
}

describe('SQL statements are recorded without literal values by default', () => {
  it("mysql2: maskStatement is on and the hook turns `a = 'secret'` into `a = ?`, keeping placeholders", () => {
    const options = configFor('mysql2');
    // Without maskStatement upstream formats the bind values into db.query.text and never calls the hook.
    assert.equal(options.maskStatement, true);
    const mask = options.maskStatementHook as (query: string) => string;
    assert.equal(mask("SELECT * FROM t WHERE a = 'secret'"), 'SELECT * FROM t WHERE a = ?');
    assert.equal(mask('SELECT * FROM t WHERE a = "secret" AND b = ? AND c = 42'), 'SELECT * FROM t WHERE a = ? AND b = ? AND c = ?');
  });

  it("pg: the requestHook records db.query.text with literals replaced and $1 kept", () => {
    const hook = configFor('pg').requestHook as (span: Span, info: { query: { text: string } }) => void;
    const { span, attributes } = recordingSpan();
    hook(span, { query: { text: "SELECT * FROM t WHERE a = 'secret' AND b = $1" } });
    assert.deepEqual(attributes, { 'db.query.text': 'SELECT * FROM t WHERE a = ? AND b = $1' });
  });
});
