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
  await receiver?.close();
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

  for (const code of [0, 3]) {
    it(`process.exit(${code}) right after a request: its spans are exported, the exit code is ${code} and no app code runs after exit`, async () => {
      const service = `process-exit-${code}`;
      const startedAt = Date.now();
      const result = await runScript('exit-after-request.cjs', { args: ['exit', String(code)], env: env(service) });
      assert.equal(result.code, code, result.stderr);
      assert.equal(result.stderr, '');
      assert.equal(result.stdout, 'GOT served\n', 'nothing ran after process.exit()');
      assert.ok(Date.now() - startedAt < 5_000, `exited in ${Date.now() - startedAt} ms`);
      assert.equal(serverSpansOf(service).length, 1, 'the SERVER span reached the collector');
      assert.ok(receiver.spans.some((s) => s.resource['service.name'] === service && s.kind === 'CLIENT'), 'and the fetch CLIENT span');
    });
  }

  it('an uncaught exception: Node prints it and exits with 1 as without us, after the spans are exported', async () => {
    const service = 'uncaught-exception';
    const result = await runScript('exit-after-request.cjs', { args: ['throw'], env: env(service) });
    const plain = await runScript('exit-after-request.cjs', { args: ['throw'], flag: 'none', env: env('untraced') });
    assert.equal(result.code, 1);
    assert.equal(result.signal, null);
    assert.equal(result.stdout, 'GOT served\n');
    assert.match(result.stderr, /Error: boom from the app\n\s+at /, 'the error and its stack are printed');
    // Node 22 adds an async_hooks frame to callbacks once context tracking is on: the same error, one internal frame more.
    const normalise = (text: string) => text.replace(/\d+:\d+/g, 'L:C').replace(/^ +at process\.callbackTrampoline \(node:internal\/async_hooks:L:C\)\n/m, '');
    assert.equal(normalise(result.stderr), normalise(plain.stderr), 'stderr is what the app prints without us');
    assert.equal(serverSpansOf(service).length, 1);
  });

  it('an unhandled rejection ends the process with 1 as without us, after the spans are exported', async () => {
    const service = 'unhandled-rejection';
    const result = await runScript('exit-after-request.cjs', { args: ['reject'], env: env(service) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /rejected by the app/);
    assert.doesNotMatch(result.stderr, /@acme\/otel-register/);
    assert.equal(serverSpansOf(service).length, 1);
  });

  it('an app with its own uncaughtException handler keeps running and serving', async () => {
    const service = 'own-uncaught-handler';
    const app = await startApp('exit-after-request.cjs', { args: ['caught'], env: { ...env(service), OTEL_BSP_SCHEDULE_DELAY: '50' } });
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 1, 5_000);
    const reply = await get(`${app.url}/still-alive`);
    assert.equal(reply.body, 'served');
    assert.match(app.stdout(), /APP CAUGHT boom from the app/);
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 2, 5_000);
    const result = await app.stop('SIGTERM');
    assert.deepEqual(result, { code: null, signal: 'SIGTERM' });
    assert.equal(app.stderr(), '');
  });

  it('a hung collector delays process.exit() by at most the flush bound, says so in one line, and the exit code stands', async () => {
    const hung = await startOtlpReceiver();
    hung.setBehaviour({ delayMs: 30_000 });
    try {
      const startedAt = Date.now();
      const result = await runScript('exit-after-request.cjs', {
        args: ['exit', '4'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: hung.grpcEndpoint, OTEL_SERVICE_NAME: 'hung-exit', OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '1500' },
      });
      const elapsed = Date.now() - startedAt;
      assert.equal(result.code, 4);
      assert.ok(elapsed < 4_000, `exited in ${elapsed} ms with a 1500 ms bound`);
      assert.ok(hung.requests.length >= 1, 'the export was attempted');
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /^@acme\/otel-register: 2 spans ended just before exit could not be exported \(/);
    } finally {
      await hung.close();
    }
  });

  it('a hung collector delays a script that ends by itself by at most the flush bound, and process.exitCode stands', async () => {
    const hung = await startOtlpReceiver();
    hung.setBehaviour({ delayMs: 30_000 });
    try {
      const startedAt = Date.now();
      const result = await runScript('exit-code-script.mjs', {
        args: ['5'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: hung.grpcEndpoint, OTEL_SERVICE_NAME: 'hung-natural-exit', OTEL_BSP_EXPORT_TIMEOUT: '1500' },
      });
      const elapsed = Date.now() - startedAt;
      assert.equal(result.code, 5, result.stderr);
      assert.ok(elapsed < 4_000, `exited in ${elapsed} ms with a 1500 ms bound`);
      assert.ok(hung.requests.length >= 1, 'the export was attempted');
    } finally {
      await hung.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} with a hung collector: the process still dies by ${signal} within the flush bound`, async () => {
      const hung = await startOtlpReceiver();
      hung.setBehaviour({ delayMs: 30_000 });
      try {
        const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: hung.grpcEndpoint, OTEL_SERVICE_NAME: `hung-${signal.toLowerCase()}`, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '1500' } });
        await get(`${app.url}/users/1`);
        const startedAt = Date.now();
        const result = await app.stop(signal);
        assert.deepEqual(result, { code: null, signal });
        assert.ok(Date.now() - startedAt < 4_000, `died ${Date.now() - startedAt} ms after ${signal} with a 1500 ms bound`);
      } finally {
        await hung.close();
      }
    });
  }

  it('an uncaught exception with a hung collector: exit 1 with Node\'s error within the flush bound, and one line on the spans lost', async () => {
    const hung = await startOtlpReceiver();
    hung.setBehaviour({ delayMs: 30_000 });
    try {
      const startedAt = Date.now();
      const result = await runScript('exit-after-request.cjs', {
        args: ['throw'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: hung.grpcEndpoint, OTEL_SERVICE_NAME: 'hung-throw', OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '1500' },
      });
      const elapsed = Date.now() - startedAt;
      assert.equal(result.code, 1, result.stderr);
      assert.ok(elapsed < 4_000, `exited in ${elapsed} ms with a 1500 ms bound`);
      assert.match(result.stderr, /Error: boom from the app\n\s+at /, 'Node\'s own error output');
      assert.ok(hung.requests.length >= 1, 'the export was attempted');
      const ours = result.stderr.split('\n').filter((line) => line.startsWith('@acme/otel-register:'));
      assert.equal(ours.length, 1, result.stderr);
      assert.match(ours[0]!, /spans ended just before exit could not be exported/);
    } finally {
      await hung.close();
    }
  });

});
