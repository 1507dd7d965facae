import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const REQUEST_HEADERS = { 'x-tenant': 'acme', 'user-agent': 'probe/1.0', authorization: 'Bearer t0k3n-abc', cookie: 'session=c00kie-xyz' };

async function serverSpan(service: string, env: Record<string, string>, headers: Record<string, string> = REQUEST_HEADERS): Promise<ReceivedSpan> {
  const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, ...env } });
  try {
    await get(`${app.url}/users/1`, headers);
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'));
    assert.equal(app.stderr(), '');
    return spans.find((s) => s.resource['service.name'] === service && s.kind === 'SERVER')!;
  } finally {
    await app.stop();
  }
}

const headerAttributes = (span: ReceivedSpan) => Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith('http.request.header.') || key.startsWith('http.response.header.')));

describe('ACME_OTEL_CAPTURE_HEADERS', () => {
  it('unset: no header is recorded', async () => {
    assert.deepEqual(headerAttributes(await serverSpan('headers-default', {})), {});
  });

  it('listed headers are recorded, in any case; secret ones only as REDACTED', async () => {
    const span = await serverSpan('headers-listed', { ACME_OTEL_CAPTURE_HEADERS: 'X-Tenant, user-agent,Authorization,cookie,content-type,x-absent' });
    assert.deepEqual(headerAttributes(span), {
      'http.request.header.x-tenant': ['acme'],
      'http.request.header.user-agent': ['probe/1.0'],
      'http.request.header.authorization': ['REDACTED'],
      'http.request.header.cookie': ['REDACTED'],
      'http.response.header.content-type': ['application/json; charset=utf-8'],
    });
    assert.doesNotMatch(JSON.stringify(span.attributes), /t0k3n|c00kie/);
  });

  it('fetch and http.request CLIENT spans carry the listed headers both ways; credentials only as REDACTED', async () => {
    const service = 'headers-client';
    const app = await startApp('use-http-fetch.mjs', {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_SERVICE_NAME: service,
        ACME_OTEL_CAPTURE_HEADERS: 'x-tenant,x-leaf,authorization,proxy-authorization,cookie,set-cookie,x-absent',
      },
    });
    let clients: ReceivedSpan[];
    try {
      assert.equal((await get(`${app.url}/out-with-headers`)).body, 'fetch 200 http 200');
      const mine = (all: ReceivedSpan[]) => all.filter((s) => s.resource['service.name'] === service && s.kind === 'CLIENT');
      clients = mine(await receiver.waitForSpans((all) => mine(all).length >= 2));
    } finally {
      await app.stop();
    }
    assert.equal(app.stderr(), '');
    const expected = {
      'http.request.header.x-tenant': ['acme'],
      'http.request.header.authorization': ['REDACTED'],
      'http.request.header.proxy-authorization': ['REDACTED'],
      'http.request.header.cookie': ['REDACTED'],
      'http.response.header.x-leaf': ['leaf-1'],
      'http.response.header.set-cookie': ['REDACTED'],
    };
    const fetchSpan = clients.find((s) => s.scope.name.includes('undici'));
    const httpSpan = clients.find((s) => s.scope.name.includes('instrumentation-http'));
    assert.ok(fetchSpan && httpSpan, `one CLIENT span each from undici and http: ${clients.map((s) => s.scope.name).join(', ')}`);
    assert.deepEqual(headerAttributes(fetchSpan), expected, 'fetch CLIENT span');
    assert.deepEqual(headerAttributes(httpSpan), expected, 'http.request CLIENT span');
    for (const span of clients) assert.doesNotMatch(JSON.stringify(span.attributes), /t0k3n|pr0xy|c00kie|not-for-spans/);
  });

  it('a bad name is warned about and skipped, the others still apply', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'headers-bad', ACME_OTEL_CAPTURE_HEADERS: 'x-tenant,bad header' } });
    try {
      await get(`${app.url}/users/1`, REQUEST_HEADERS);
      await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === 'headers-bad' && s.attributes['http.request.header.x-tenant'] !== undefined));
    } finally {
      await app.stop();
    }
    assert.equal(app.stderr(), '@acme/otel-register: ACME_OTEL_CAPTURE_HEADERS: "bad header" is not a header name; skipped\n');
  });
});

describe('huge and numerous attributes are capped by the span limits', () => {
  it('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT cuts a 6 kB query string and header; OTEL_ATTRIBUTE_COUNT_LIMIT caps 60 captured headers', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 60; i++) many[`x-h${i}`] = `v${i}`;
    const huge = 'q'.repeat(6_000);
    const service = 'limits';
    const app = await startApp('use-express.cjs', {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_SERVICE_NAME: service,
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
        OTEL_ATTRIBUTE_COUNT_LIMIT: '20',
        ACME_OTEL_CAPTURE_HEADERS: ['x-huge', ...Object.keys(many)].join(','),
      },
    });
    try {
      assert.equal((await get(`${app.url}/users/1?${huge}`, { ...many, 'x-huge': huge })).status, 200);
      await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'));
    } finally {
      await app.stop();
    }
    assert.equal(app.stderr(), '');
    const span = receiver.spans.find((s) => s.resource['service.name'] === service && s.kind === 'SERVER')!;
    assert.equal(Object.keys(span.attributes).length, 20, 'attributes beyond the count limit are dropped');
    assert.ok(span.droppedAttributesCount > 40, `and counted as dropped (${span.droppedAttributesCount})`);
    for (const [key, value] of Object.entries(span.attributes)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item === 'string') assert.ok(item.length <= 64, `${key} is ${item.length} characters`);
      }
    }
  });
});
