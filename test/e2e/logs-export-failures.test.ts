import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ofService, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';
import { freePort } from '../support/services.ts';

/**
 * Log records that cannot be delivered are counted and reported as spans
 * are: one line when exporting starts failing, one when it works again with
 * the count lost in between, and a full OTEL_BLRP_MAX_QUEUE_SIZE queue
 * reported with its count. Never a line per batch, never silent.
 */

let traces: OtlpReceiver;
let logsCollector: OtlpReceiver;
before(async () => {
  traces = await startOtlpReceiver();
  logsCollector = await startOtlpReceiver();
});
after(async () => {
  await Promise.all([traces.close(), logsCollector.close()]);
});
const ourLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('@acme/otel-register:'));

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('log records that cannot be delivered are counted and reported once', () => {
  it('a collector rejecting logs: one line when it starts, one with the count when it works again', async () => {
    const serviceName = 'logs-collector-fails';
    logsCollector.reset();
    // INVALID_ARGUMENT: not retried, so every batch fails at once.
    logsCollector.setBehaviour({ grpcStatus: 3, grpcMessage: 'logs rejected' });
    const app = await startApp('use-pino-server.cjs', {
      flag: 'import',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: traces.grpcEndpoint, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: logsCollector.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '20' },
    });
    const rejected = () => logsCollector.requests.reduce((sum, request) => sum + (request.logRecordCount ?? 0), 0);
    await fetch(`${app.url}/log?count=3`);
    await waitFor(() => rejected() >= 3, 'the first rejected batch');
    await fetch(`${app.url}/log?count=2`);
    await waitFor(() => rejected() >= 5, 'the second rejected batch');
    logsCollector.setBehaviour({});
    await fetch(`${app.url}/log?count=1&batch=after`);
    await logsCollector.waitForLogs((all) => all.filter(ofService(serviceName)).length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.stop('SIGTERM');
    const target = new URL(logsCollector.grpcEndpoint).host;
    assert.deepEqual(ourLines(app.stderr()), [
      `@acme/otel-register: exporting logs to ${target} (OTLP grpc) failed (3 INVALID_ARGUMENT: logs rejected); log records are dropped until it works again`,
      `@acme/otel-register: exporting logs to ${target} (OTLP grpc) works again; 5 log records were dropped while it failed`,
    ]);
    assert.deepEqual(logsCollector.logs.filter(ofService(serviceName)).map((record) => record.attributes.batch), ['after']);
    // The spans' collector was never in trouble, and nothing says it was.
    assert.ok(traces.spans.some(ofService(serviceName)));
  });

  it('a full OTEL_BLRP_MAX_QUEUE_SIZE queue: the dropped records are counted on one line at the flush', async () => {
    const serviceName = 'logs-queue-full';
    logsCollector.reset();
    const app = await startApp('use-pino-server.cjs', {
      flag: 'import',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: traces.grpcEndpoint,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: logsCollector.grpcEndpoint,
        OTEL_SERVICE_NAME: serviceName,
        OTEL_BLRP_MAX_QUEUE_SIZE: '10',
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '10',
        OTEL_BLRP_SCHEDULE_DELAY: '60000',
      },
    });
    // 100 lines in one synchronous loop: the queue holds 10, the export of a full batch waits for the next turn.
    await fetch(`${app.url}/log?count=100`);
    await app.stop('SIGTERM');
    const received = logsCollector.logs.filter(ofService(serviceName)).length;
    assert.equal(received, 10);
    assert.deepEqual(ourLines(app.stderr()), [
      `@acme/otel-register: the log record queue (OTEL_BLRP_MAX_QUEUE_SIZE=10) is full: exports to ${new URL(logsCollector.grpcEndpoint).host} (OTLP grpc) cannot keep up; 90 log records dropped`,
    ]);
  });

  for (const ending of ['SIGTERM', 'process.exit(3)'] as const) {
    it(`a logs collector down until the process ends (${ending}): every record lost is counted on the way out`, async () => {
      const serviceName = `logs-down-until-${ending}`;
      const port = await freePort();
      const app = await startApp('use-pino-server.cjs', {
        flag: 'import',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: traces.grpcEndpoint, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1000', OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '20' },
      });
      await fetch(`${app.url}/log?count=30`);
      await waitFor(() => ourLines(app.stderr()).length > 0, 'the failure line');
      await fetch(`${app.url}/log?count=4`);
      let logged = 34;
      if (ending === 'SIGTERM') {
        assert.equal((await app.stop('SIGTERM')).signal, 'SIGTERM');
      } else {
        await fetch(`${app.url}/exit`).catch(() => {});
        logged += 1;
        assert.equal((await app.exited).code, 3);
      }
      const lines = ourLines(app.stderr());
      const target = `127.0.0.1:${port}`;
      assert.match(lines[0]!, new RegExp(`^@acme/otel-register: exporting logs to ${target} \\(OTLP grpc\\) failed \\(14 UNAVAILABLE: .*\\); log records are dropped until it works again$`));
      const atEnd = lines.slice(1).map((line) => /^@acme\/otel-register: exporting logs to (\S+) \(OTLP grpc\) still failed when the process ended; (\d+) log records were dropped while it failed$/.exec(line) ?? /^@acme\/otel-register: (\d+) log records logged just before exit could not be exported \(.+\)$/.exec(line));
      assert.ok(atEnd.length > 0 && atEnd.every((match) => match !== null), lines.join('\n'));
      const counted = atEnd.reduce((sum, match) => sum + Number(match!.at(-1)), 0);
      assert.equal(counted, logged, `every record logged is counted once:\n${lines.join('\n')}`);
    });
  }
});
