/**
 * A SIGTERM listener that is not signal-exit's is the app's own handler, and
 * the exit stays its decision: beside signal-exit, exiting at once during our
 * flush, a signal-exit callback capturing the signal, and a hand-written
 * listener that behaves like signal-exit without announcing itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, stopWithin } from '../support/exit-hook-libraries.ts';
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

describe('a listener that is not signal-exit\'s is the app\'s own handler: it keeps the exit', () => {
  function env(service: string): Record<string, string> {
    return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '60000' };
  }
  const serverSpansOf = (service: string) => receiver.spans.filter((s) => s.resource['service.name'] === service && s.kind === 'SERVER');

  it('an app with its own SIGTERM handler beside signal-exit: its handler decides (exit 7), signal-exit\'s callback runs once with that code, as bare', async () => {
    const service = 'own-handler-with-signal-exit';
    const outcomes = [];
    for (const flag of ['none', 'import'] as const) {
      const app = await startApp('own-signal-handler.cjs', { flag, args: ['with-signal-exit'], env: env(service) });
      assert.equal((await get(`${app.url}/x`)).status, 200);
      outcomes.push({ ...(await stopWithin(app, 'SIGTERM')), stdout: app.stdout().replace(/LISTENING \d+/, 'LISTENING <port>'), stderr: app.stderr() });
    }
    const [bare, traced] = outcomes;
    assert.deepEqual(traced, bare);
    assert.deepEqual(traced!.stdout.split('\n'), ['LISTENING <port>', 'APP SIGTERM HANDLER', 'CALLBACK signal-exit v3 code=7 signal=null', '']);
    assert.equal(traced!.code, 7);
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 1, 5_000);
  });

  it('an app whose SIGTERM handler calls process.exit(0) at once, during our flush: exit 0, and the spans of that flush still reach the collector', async () => {
    const service = 'own-handler-exit-at-once';
    const app = await startApp('own-signal-handler.cjs', { args: ['exit-at-once'], env: env(service) });
    for (let i = 0; i < 3; i++) assert.equal((await get(`${app.url}/x${i}`)).status, 200);
    assert.deepEqual(await stopWithin(app, 'SIGTERM'), { code: 0, signal: null });
    assert.equal(app.stderr(), '');
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 3, 5_000).catch(() => undefined);
    assert.equal(serverSpansOf(service).length, 3, 'sent again from the exit flush, as the export under way died with process.exit()');
  });

  it('a signal-exit 4 callback that returns true captures SIGTERM: the app goes on and ends by itself (exit 0), as bare', async () => {
    const service = 'signal-exit-capture';
    const outcomes = [];
    for (const flag of ['none', 'import'] as const) {
      const app = await startApp('use-signal-exit-v4.mjs', { flag, args: ['signal', 'capture'], env: env(service) });
      outcomes.push({ ...(await stopWithin(app, 'SIGTERM')), stdout: app.stdout().replace(/LISTENING \d+/, 'LISTENING <port>'), stderr: app.stderr() });
    }
    const [bare, traced] = outcomes;
    assert.deepEqual(traced, bare);
    assert.deepEqual(traced, { code: 0, signal: null, stdout: 'GOT served\nLISTENING <port>\nCALLBACK signal-exit v4 code=null signal=SIGTERM\n', stderr: '' });
    await receiver.waitForSpans(() => serverSpansOf(service).length >= 1, 5_000);
  });

  it('a hand-written listener that acts like signal-exit without announcing itself counts as the app\'s: we flush and leave the exit to it, and it never acts', async () => {
    const bare = await startApp('signal-exit-lookalike.cjs', { flag: 'none' });
    assert.deepEqual(await stopWithin(bare, 'SIGTERM'), { code: null, signal: 'SIGTERM' });
    assert.match(bare.stdout(), /CLEANUP/);

    const service = 'signal-exit-lookalike';
    const traced = await startApp('signal-exit-lookalike.cjs', { env: env(service) });
    try {
      traced.child.kill('SIGTERM');
      await receiver.waitForSpans(() => serverSpansOf(service).length === 1, 5_000);
      await sleep(1_000);
      assert.ok(isRunning(traced), 'still running after the flush: its listener waits to be alone, and ours stays');
      assert.doesNotMatch(traced.stdout(), /CLEANUP/);
      assert.equal(traced.stderr(), '');
    } finally {
      traced.child.kill('SIGKILL');
      await traced.exited;
    }
  });
});
