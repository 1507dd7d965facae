import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

let receiver: OtlpReceiver | undefined;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const REQUESTS = 20;

/** Gone, or a zombie: orphaned workers are reparented to a PID 1 that may never reap them. */
function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

type Stop = { signal: NodeJS.Signals; to: 'the primary' | 'the process group' };

/**
 * Starts use-cluster.cjs (primary + 2 workers, the loader in NODE_OPTIONS),
 * sends REQUESTS at once, each continuing a trace of its own, and stops the
 * app as soon as the last answer arrives, while the spans are still in the
 * workers (console view settling, OTLP batch waiting):
 * - SIGTERM to the primary (docker stop, Kubernetes, kill <pid>): a primary
 *   without a handler dies by it; each worker sees its IPC channel close,
 *   and Node's cluster code calls process.exit(0) in it: our exit flush.
 * - a signal to the whole process group (Ctrl-C in a terminal, systemd's
 *   stop): each worker runs our signal flush, and the primary's death ends
 *   it with process.exit(0) while its exports are still in flight.
 */
async function serveThenStop(stop: Stop, env: Record<string, string>) {
  const app = await startApp('use-cluster.cjs', { flag: 'node-options-import', env, detached: true });
  const traceIds = Array.from({ length: REQUESTS }, () => randomBytes(16).toString('hex'));
  const replies = await Promise.all(traceIds.map((traceId) => get(`${app.url}/work`, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` })));
  if (stop.to === 'the primary') app.child.kill(stop.signal);
  else process.kill(-app.child.pid!, stop.signal);
  const result = await app.exited;
  const workerPids = new Set(replies.map((reply) => Number(/^worker (\d+)$/.exec(reply.body)?.[1])));
  assert.equal(workerPids.size, 2, `both workers served: ${replies.map((reply) => reply.body).join(', ')}`);
  assert.deepEqual(result, { code: null, signal: stop.signal }, `the primary dies by ${stop.signal} as without us; stderr: ${app.stderr()}`);
  // 'close' came once every process holding the output pipe had closed it: the workers are exiting (a moment more to be gone).
  const deadline = Date.now() + 2_000;
  while ([...workerPids].some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(![...workerPids].some(isRunning), 'no worker outlives the primary');
  return { traceIds, stdout: app.stdout(), stderr: app.stderr() };
}

const STOPS: Stop[] = [
  { signal: 'SIGTERM', to: 'the primary' },
  { signal: 'SIGTERM', to: 'the process group' },
  { signal: 'SIGINT', to: 'the process group' },
];

describe('a node:cluster app that is stopped: every request of every worker is accounted for', () => {
  for (const stop of STOPS) {
    it(`${stop.signal} to ${stop.to}, console: each request's SERVER span is printed by the worker that served it`, async () => {
      const { traceIds, stdout, stderr } = await serveThenStop(stop, { OTEL_TRACES_EXPORTER: 'console' });
      assert.equal(stderr, '');
      const printed = stdout.split('\n').filter((line) => / SERVER "GET" .*url\.path=\/work/.test(line));
      assert.equal(printed.length, REQUESTS, stdout);
      for (const traceId of traceIds) assert.ok(printed.some((line) => line.startsWith(`${traceId} `)), `trace ${traceId} printed`);
    });

    it(`${stop.signal} to ${stop.to}, OTLP: each request's SERVER span reaches the collector`, async () => {
      const service = `cluster-${stop.signal}-${stop.to.replaceAll(' ', '-')}`;
      const { traceIds, stderr } = await serveThenStop(stop, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver!.grpcEndpoint,
        OTEL_SERVICE_NAME: service,
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      });
      assert.equal(stderr, '');
      const exported = receiver!.spans.filter((span) => span.resource['service.name'] === service && span.kind === 'SERVER');
      // A batch in flight when the primary's death ends a worker is sent again: at least once, not exactly once.
      assert.deepEqual(new Set(exported.map((span) => span.traceId)), new Set(traceIds));
    });
  }
});
