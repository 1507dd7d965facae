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

describe('fetch/undici CLIENT spans capture ACME_OTEL_CAPTURE_HEADERS', () => {
  const env = { ACME_OTEL_CAPTURE_HEADERS: 'x-tenant,authorization,proxy-authorization,cookie,set-cookie' };

  it('unset: nothing is configured, so upstream records no header', () => {
    assert.deepEqual(configFor('undici'), {});
  });

  it('upstream is given only the plain names; secret ones are never handed to it', () => {
    assert.deepEqual(configFor('undici', env).headersToSpanAttributes, { requestHeaders: ['x-tenant'], responseHeaders: ['x-tenant'] });
  });

  it('listed secret request headers present on the request are recorded as REDACTED (array and string header forms)', () => {
    const hook = configFor('undici', env).requestHook as (span: Span, request: unknown) => void;
    const fromArray = recordingSpan();
    hook(fromArray.span, { headers: ['Authorization', 'Bearer t0k3n', 'x-tenant', 'acme', 'Cookie', ['a=1', 'b=2']] });
    assert.deepEqual(fromArray.attributes, { 'http.request.header.authorization': ['REDACTED'], 'http.request.header.cookie': ['REDACTED'] });
    const fromString = recordingSpan();
    hook(fromString.span, { headers: 'host: x\r\nProxy-Authorization: Basic czNjcjN0\r\n' });
    assert.deepEqual(fromString.attributes, { 'http.request.header.proxy-authorization': ['REDACTED'] });
  });

  it('a listed set-cookie on the response is recorded as REDACTED', () => {
    const hook = configFor('undici', env).responseHook as (span: Span, info: { request: unknown; response: unknown }) => void;
    const { span, attributes } = recordingSpan();
    hook(span, { request: {}, response: { headers: [Buffer.from('Set-Cookie'), Buffer.from('session=c00kie'), Buffer.from('x-tenant'), Buffer.from('acme')] } });
    assert.deepEqual(attributes, { 'http.response.header.set-cookie': ['REDACTED'] });
  });
});

describe('log libraries: correlation fields only, no log sending inside the app\'s logger', () => {
  for (const name of ['pino', 'winston', 'bunyan']) {
    it(`${name}: upstream's log sending is off (it would swap or add streams and transports) and correlation stays on`, () => {
      assert.deepEqual(configFor(name), { disableLogSending: true });
    });
  }
});
