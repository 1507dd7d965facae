import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { incomingRequestAttributes, type IncomingRequestLike } from '../../../src/instrumentations/http-request-attributes.ts';

const require = createRequire(import.meta.url);
const upstream = require(path.join(path.dirname(require.resolve('@opentelemetry/instrumentation-http')), 'utils.cjs')) as {
  getIncomingRequestAttributes(request: unknown, options: Record<string, unknown>, logger: unknown): Record<string, unknown>;
};
const logger = { verbose() {}, debug() {}, error() {} };
const REDACTED = ['sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];

function request(overrides: Partial<IncomingRequestLike> & { headers?: Record<string, string | string[] | undefined> } = {}): IncomingRequestLike {
  return {
    method: 'GET',
    url: '/users/42',
    httpVersion: '1.1',
    socket: { remoteAddress: '127.0.0.1', remotePort: 51234 },
    ...overrides,
    headers: { host: '127.0.0.1:8080', 'user-agent': 'curl/8', ...overrides.headers },
  };
}

/** Ours (when it answers) against upstream's, entries in order, undefined values included. */
function assertSameAsUpstream(incoming: IncomingRequestLike, component = 'http', hookAttributes?: Record<string, unknown>) {
  const options = { component, hookAttributes, enableSyntheticSourceDetection: false, redactedQueryParams: REDACTED };
  const theirs = upstream.getIncomingRequestAttributes(incoming, options, logger);
  const ours = incomingRequestAttributes(incoming, options);
  if (ours !== undefined) assert.deepEqual(Object.entries(ours), Object.entries(theirs), JSON.stringify(incoming));
  return ours;
}

describe("SERVER span attributes without a URL parse: the same as instrumentation-http's", () => {
  it('answers for the common request, key for key and in the same order', () => {
    for (const incoming of [
      request(),
      request({ url: '/' }),
      request({ url: "/a-b_c.d~e/!$&'()*+,;=:@/x.json" }),
      request({ method: 'POST', url: '/orders', headers: { host: 'shop.example.com' } }),
      request({ headers: { host: 'Shop.Example.COM:443', 'user-agent': undefined } }),
      request({ method: 'DELETE', httpVersion: '1.0', socket: { remoteAddress: '::1', remotePort: 1 } }),
      request({ socket: { remoteAddress: undefined, remotePort: undefined } }),
      request({ url: '/..a/b..', headers: { host: 'localhost' } }),
    ]) {
      assert.ok(assertSameAsUpstream(incoming) !== undefined, `fast path for ${JSON.stringify(incoming)}`);
    }
    assert.ok(assertSameAsUpstream(request({ headers: { host: 'secure.example.com' } }), 'https') !== undefined);
    assert.ok(assertSameAsUpstream(request(), 'http', { 'app.tenant': 'acme', 'url.path': '/hooked' }) !== undefined);
  });

  it('leaves to upstream what a URL parse or forwarded headers could change', () => {
    for (const incoming of [
      request({ url: '/search?q=1' }),
      request({ url: '/a/../b' }),
      request({ url: '/a/./b' }),
      request({ url: '/a/%2e%2e/b' }),
      request({ url: '/caf\u00e9' }),
      request({ url: '/a b' }),
      request({ url: '/a\\b' }),
      request({ url: '//evil.example/x' }),
      request({ url: '/x#frag' }),
      request({ url: '*' }),
      request({ method: 'get' }),
      request({ method: 'PROPFIND' }),
      request({ headers: { host: '[::1]:8080' } }),
      request({ headers: { host: 'a:99999' } }),
      request({ headers: { host: '1.2.3.999' } }),
      request({ headers: { host: 'user@host' } }),
      request({ headers: { host: '' } }),
      request({ headers: { host: undefined } }),
      request({ headers: { forwarded: 'for=1.2.3.4;host=example.com;proto=https' } }),
      request({ headers: { 'x-forwarded-for': '1.2.3.4' } }),
      request({ headers: { 'x-forwarded-host': 'example.com' } }),
    ]) {
      assert.equal(assertSameAsUpstream(incoming), undefined, `no fast path for ${JSON.stringify(incoming)}`);
    }
    assert.equal(incomingRequestAttributes(request(), { component: 'http', enableSyntheticSourceDetection: true }), undefined);
  });
});
