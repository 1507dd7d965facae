import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript, startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

/** A long batch delay, so the spans can only arrive through the flush at exit. */
function env(serviceName: string): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BSP_SCHEDULE_DELAY: '60000' };
}

function serverSpansOf(serviceName: string) {
  return receiver.spans.filter((s) => s.resource['service.name'] === serviceName && s.kind === 'SERVER');
}

describe('exit behaviour is the app\'s own', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} with no app handler: spans are flushed, then the process dies by ${signal} as it would without us`, async () => {
      const service = `signal-${signal}`;
      const app = await startApp('use-express.cjs', { env: env(service) });
      for (let i = 0; i < 5; i++) assert.equal((await get(`${app.url}/users/${i}`)).status, 200);
      const startedAt = Date.now();
      const result = await app.stop(signal);
      assert.deepEqual(result, { code: null, signal }, app.stderr());
      assert.ok(Date.now() - startedAt < 5_000, 'the flush is bounded');
      assert.equal(serverSpansOf(service).length, 5, 'every served request reached the collector');
    });
  }

  it('an app with its own SIGTERM handler keeps control: its exit code stands and spans are flushed', async () => {
    const service = 'own-handler';
    const app = await startApp('own-signal-handler.cjs', { env: env(service) });
    for (let i = 0; i < 3; i++) await get(`${app.url}/x${i}`);
    const result = await app.stop('SIGTERM');
    assert.deepEqual(result, { code: 7, signal: null });
    assert.match(app.stdout(), /APP SIGTERM HANDLER/);
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 3, 5_000);
    assert.equal(serverSpansOf(service).length, 3);
  });

  it('a script that ends by itself exits with 0, promptly, after its spans are exported (beforeExit flush)', async () => {
    const service = 'short-script';
    const startedAt = Date.now();
    const result = await runScript('short-script.mjs', { env: env(service) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /GOT done/);
    assert.ok(Date.now() - startedAt < 8_000, `exited in ${Date.now() - startedAt} ms`);
    assert.equal(serverSpansOf(service).length, 1);
    const client = receiver.spans.find((s) => s.resource['service.name'] === service && s.kind === 'CLIENT');
    assert.ok(client, 'the fetch CLIENT span was exported too');
  });

  it('with the collector unreachable, a script still exits promptly with its own code', async () => {
    const startedAt = Date.now();
    const result = await runScript('short-script.mjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'no-collector' } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - startedAt < 10_000, `exited in ${Date.now() - startedAt} ms`);
  });
});
