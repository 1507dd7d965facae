import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

describe('ACME_OTEL_RESPONSE_HEADERS', () => {
  it('SERVER responses carry the trace id in the chosen formats, matching the exported span', async () => {
    const app = await startApp('use-express.cjs', {
      env: { ACME_OTEL_RESPONSE_HEADERS: 'traceresponse,server-timing,kontur', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'response-headers' },
    });
    try {
      const reply = await get(`${app.url}/users/1`);
      // 03: sampled, and random-trace-id, since the trace is ours (W3C Trace Context Level 2).
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-03$/.exec(String(reply.headers.traceresponse));
      assert.ok(match, `traceresponse: ${reply.headers.traceresponse}`);
      const [, traceId, spanId] = match;
      assert.equal(reply.headers['x-kontur-trace-id'], traceId);
      assert.equal(reply.headers['server-timing'], `traceparent;desc="00-${traceId}-${spanId}-03"`);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.kind === 'SERVER' && s.traceId === traceId));
      const server = spans.find((s) => s.kind === 'SERVER' && s.traceId === traceId)!;
      assert.equal(server.spanId, spanId, 'the header names the SERVER span a person will look up');
    } finally {
      await app.stop();
    }
  });

  it('off by default: no trace headers on responses', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_TRACES_EXPORTER: 'none' } });
    try {
      const reply = await get(`${app.url}/users/1`);
      assert.equal(reply.headers.traceresponse, undefined);
      assert.equal(reply.headers['server-timing'], undefined);
      assert.equal(reply.headers['x-kontur-trace-id'], undefined);
    } finally {
      await app.stop();
    }
  });
  it('CORS answers expose the trace headers, however the app set CORS: setHeader, writeHead headers, writeHead array', async () => {
    const app = await startApp('use-cors.cjs', { env: { ACME_OTEL_RESPONSE_HEADERS: 'traceresponse,server-timing,kontur', OTEL_TRACES_EXPORTER: 'none' } });
    try {
      for (const path of ['/set-header', '/write-head', '/write-head-array']) {
        const reply = await get(`${app.url}${path}`);
        assert.equal(reply.status, 200, path);
        assert.ok(reply.headers['access-control-allow-origin'], `${path}: the app's own CORS header stays`);
        const exposed = String(reply.headers['access-control-expose-headers']).toLowerCase().split(/\s*,\s*/);
        for (const name of ['traceresponse', 'server-timing', 'x-kontur-trace-id']) assert.ok(exposed.includes(name), `${path} exposes ${name}: ${exposed}`);
        assert.match(String(reply.headers.traceresponse), /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/, path);
      }
      const withOwnTiming = await get(`${app.url}/write-head`);
      assert.match(String(withOwnTiming.headers['server-timing']), /^db;dur=53, traceparent;desc="00-[0-9a-f]{32}-[0-9a-f]{16}-03"$/, 'appended to the app\'s Server-Timing');
      const noCors = await get(`${app.url}/other`);
      assert.equal(noCors.headers['access-control-expose-headers'], undefined, 'no CORS answer, no expose header');
      assert.equal(app.stderr(), '');
    } finally {
      await app.stop();
    }
  });
});
