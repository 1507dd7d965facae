import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';

/**
 * Spans, the last metric collection and the queued log records all leave
 * when the process ends, however it ends, with the schedules long enough
 * (60 s each) that nothing would leave otherwise: one pino app, one request
 * logging two lines, then SIGTERM, SIGINT, process.exit(3), an uncaught
 * exception, or a server that closes and lets the process end (beforeExit).
 */

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

const ofService = (service: string) => (item: { resource: Record<string, unknown> }) => item.resource['service.name'] === service;

const ENDINGS: { name: string; end: (app: RunningApp) => Promise<void>; exit: { code: number | null; signal: NodeJS.Signals | null }; lastLine?: string; requests: number }[] = [
  { name: 'SIGTERM', end: async (app) => void (await app.stop('SIGTERM')), exit: { code: null, signal: 'SIGTERM' }, requests: 1 },
  { name: 'SIGINT', end: async (app) => void (await app.stop('SIGINT')), exit: { code: null, signal: 'SIGINT' }, requests: 1 },
  // The /exit request's own SERVER span never ends: one request counted.
  { name: 'process.exit(3)', end: async (app) => void (await fetch(`${app.url}/exit`).catch(() => {})), exit: { code: 3, signal: null }, lastLine: 'exiting now', requests: 1 },
  { name: 'an uncaught exception', end: async (app) => void (await fetch(`${app.url}/throw`)), exit: { code: 1, signal: null }, lastLine: 'about to throw', requests: 2 },
  { name: 'beforeExit (the server closes, the process ends by itself)', end: async (app) => void (await fetch(`${app.url}/close`)), exit: { code: 0, signal: null }, lastLine: 'closing the server', requests: 2 },
];

describe('all three signals are flushed when the process ends', () => {
  for (const [index, ending] of ENDINGS.entries()) {
    it(`${ending.name}: the SERVER span, the request's http.server.request.duration and every log record arrive; the exit is the app's`, async () => {
      const service = `all-signals-exit-${index}`;
      const app = await startApp('use-pino-server.cjs', {
        env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BLRP_SCHEDULE_DELAY: '60000', OTEL_METRIC_EXPORT_INTERVAL: '60000' },
      });
      assert.equal(await (await fetch(`${app.url}/log?count=2&batch=exit`)).text(), 'ok');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.logs.filter(ofService(service)).length + receiver.metrics.filter(ofService(service)).length, 0, 'nothing left before the end');
      await ending.end(app);
      const exit = await app.exited;
      assert.deepEqual(exit, ending.exit, app.stderr());
      assert.doesNotMatch(app.stderr(), /@acme\/otel-register/);

      const servers = receiver.spans.filter((span) => ofService(service)(span) && span.kind === 'SERVER');
      assert.ok(servers.some((span) => span.attributes['url.path'] === '/log'), `the SERVER span of /log, got: ${servers.map((span) => span.name).join(', ')}`);
      const durations = receiver.metrics.filter((point) => ofService(service)(point) && point.name === 'http.server.request.duration');
      const counted = durations.filter((point) => point.attributes['http.response.status_code'] === 200).at(-1)?.count;
      assert.equal(counted, ending.requests, 'the durations recorded since the last (never run) collection');
      const bodies = receiver.logs.filter(ofService(service)).map((record) => record.body);
      assert.deepEqual(bodies.sort(), ['line 0', 'line 1', ...(ending.lastLine === undefined ? [] : [ending.lastLine])].sort());
    });
  }
});
