import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ofService, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript, startApp } from '../support/processes.ts';

/**
 * Log records still queued when the process ends leave with it: at SIGTERM
 * (flushed with the spans, within the same deadline) and at process.exit()
 * (handed to the exit flush's worker thread). OTEL_BLRP_SCHEDULE_DELAY=60000
 * keeps them queued until then.
 */

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

describe('queued log records are flushed when the process ends', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`at ${signal}: every record, correlated with its SERVER span; the process still dies by the signal`, async () => {
      const serviceName = `logs-at-${signal}`;
      const app = await startApp('use-pino-server.cjs', {
        flag: 'import',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '60000', OTEL_BSP_SCHEDULE_DELAY: '60000' },
      });
      assert.equal(await (await fetch(`${app.url}/log?count=5&batch=sigterm`)).text(), 'ok');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.logs.filter(ofService(serviceName)).length, 0, 'still queued before the signal');
      const exit = await app.stop(signal);
      assert.equal(exit.signal, signal);
      assert.equal(app.stderr(), '');
      const logs = receiver.logs.filter(ofService(serviceName));
      assert.deepEqual(logs.map((record) => record.body), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
      const server = receiver.spans.find((span) => ofService(serviceName)(span) && span.kind === 'SERVER');
      assert.ok(server, 'the SERVER span was flushed too');
      for (const record of logs) {
        assert.equal(record.traceId, server.traceId);
        assert.equal(record.spanId, server.spanId);
        assert.equal(record.attributes.batch, 'sigterm');
      }
    });

  }

  it('at an uncaught exception: the record logged before it arrives; Node prints the error and exits 1 as without us', async () => {
    const serviceName = 'logs-at-uncaught-exception';
    const app = await startApp('use-pino-server.cjs', {
      flag: 'import',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '60000' },
    });
    assert.equal(await (await fetch(`${app.url}/throw`)).text(), 'throwing');
    const exit = await app.exited;
    assert.equal(exit.code, 1);
    assert.match(app.stderr(), /Error: uncaught on purpose/);
    assert.doesNotMatch(app.stderr(), /@acme\/otel-register/);
    const logs = await receiver.waitForLogs((all) => all.some(ofService(serviceName)), 5_000);
    const record = logs.find(ofService(serviceName))!;
    assert.equal(record.body, 'about to throw');
    assert.equal(record.severityNumber, 17);
    assert.equal(record.attributes.reason, 'thrown');
  });

  it('at beforeExit: a script that ends by itself sends every record, without waiting for the schedule delay', async () => {
    const serviceName = 'logs-at-before-exit';
    const startedAt = Date.now();
    const run = await runScript('use-winston.cjs', {
      flag: 'import',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '60000' },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.ok(Date.now() - startedAt < 20_000);
    assert.equal(receiver.logs.filter(ofService(serviceName)).length, 5, 'all five records, at the latest when the process ended');
  });

  it('at process.exit(): the record logged just before it arrives and the exit code is kept', async () => {
    const serviceName = 'logs-at-process-exit';
    const app = await startApp('use-pino-server.cjs', {
      flag: 'require',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '60000' },
    });
    await fetch(`${app.url}/log?count=2`);
    await fetch(`${app.url}/exit`).catch(() => {});
    const exit = await app.exited;
    assert.equal(exit.code, 3);
    assert.equal(app.stderr(), '');
    const logs = await receiver.waitForLogs((all) => all.filter(ofService(serviceName)).length >= 3, 5_000);
    const records = logs.filter(ofService(serviceName));
    assert.deepEqual(records.map((record) => record.body).sort(), ['exiting now', 'line 0', 'line 1']);
    const fatal = records.find((record) => record.body === 'exiting now')!;
    assert.equal(fatal.severityNumber, 21);
    assert.equal(fatal.severityText, 'fatal');
    assert.equal(fatal.attributes.reason, 'asked');
    assert.match(fatal.traceId, /^[0-9a-f]{32}$/);
  });
});
