import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, startHeaderRecorder } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

describe('OTEL_TRACES_EXPORTER', () => {
  it('console prints each trace as a readable tree on stdout, one line per span', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_TRACES_EXPORTER: 'console' } });
    await get(`${app.url}/chain`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await app.stop();
    const lines = app.stdout().split('\n').filter((line) => /^[0-9a-f]{32} /.test(line));
    assert.ok(lines.length >= 4, app.stdout());
    const [root, ...rest] = lines;
    assert.match(root!, /^([0-9a-f]{32}) [0-9a-f]{16} SERVER "GET \/chain" \d+\.\dms .*http\.route=\/chain/);
    const traceId = root!.slice(0, 32);
    assert.ok(rest.every((line) => line.startsWith(traceId)), 'one trace, one tree');
    assert.ok(rest.some((line) => /└ CLIENT "GET" .*url\.full=http:\/\/127\.0\.0\.1:\d+\/users\/42/.test(line)), app.stdout());
    assert.ok(rest.some((line) => /\s+└ SERVER "GET \/users\/:id" /.test(line)), 'the downstream request nests under the call that made it');
    assert.doesNotMatch(app.stdout(), /\{\s*resource:|traceId: '/, 'not a raw object dump');
  });

  it('console with stdout closed by the reader (app | head) never crashes the app', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_TRACES_EXPORTER: 'console' } });
    app.child.stdout!.destroy();
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(app.child.exitCode, null, `the app is still running; stderr: ${app.stderr()}`);
    const result = await app.stop();
    assert.deepEqual(result, { code: null, signal: 'SIGTERM' });
    assert.doesNotMatch(app.stderr(), /EPIPE|Unhandled/);
  });

  it('none exports nothing but still propagates trace context to downstream calls', async () => {
    const downstream = await startHeaderRecorder();
    const app = await startApp('use-express.cjs', {
      env: { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, DOWNSTREAM_URL: downstream.url },
    });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const reply = await get(`${app.url}/chain`, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
      assert.equal(reply.status, 200);
      assert.equal(downstream.requests.length, 1);
      const traceparent = downstream.requests[0]!.traceparent;
      assert.match(String(traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the incoming trace continues downstream');
      assert.notEqual(String(traceparent).slice(36, 52), '00f067aa0ba902b7', 'with a new span of ours as parent');
    } finally {
      await app.stop();
      await downstream.close();
    }
    assert.equal(receiver.spans.length, 0, 'nothing exported');
  });

  it('otlp,console sends to the collector and prints', async () => {
    const app = await startApp('use-express.cjs', { env: { OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'both-exporters' } });
    try {
      await get(`${app.url}/users/3`);
      await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === 'both-exporters' && s.kind === 'SERVER'));
    } finally {
      await app.stop();
    }
    assert.match(app.stdout(), /SERVER "GET \/users\/:id"/);
  });
});
