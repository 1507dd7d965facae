import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';

/** OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT and _VALUE_LENGTH_LIMIT cap what a log record carries, not what the app writes. */

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

describe('log record attribute limits', () => {
  it('OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT=3 keeps the first 3 attributes and counts the rest; _VALUE_LENGTH_LIMIT=4 cuts strings; the line on stdout is whole', async () => {
    const serviceName = 'logs-limits';
    const app = await startApp('use-pino-server.cjs', {
      flag: 'import',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_SERVICE_NAME: serviceName,
        OTEL_BLRP_SCHEDULE_DELAY: '20',
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '3',
        OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4',
      },
    });
    await fetch(`${app.url}/log?count=1&batch=abcdefgh`);
    const logs = await receiver.waitForLogs((all) => all.some((record) => record.resource['service.name'] === serviceName));
    await app.stop();
    const record = logs.find((one) => one.resource['service.name'] === serviceName)!;
    // pino's line: pid, hostname, i, batch (+ correlation fields, which are not attributes): the first three are kept.
    assert.deepEqual(Object.keys(record.attributes), ['pid', 'hostname', 'i'], JSON.stringify(record.attributes));
    assert.equal(record.droppedAttributesCount, 1);
    assert.equal(record.attributes.hostname, os.hostname().slice(0, 4));
    assert.match(app.stdout(), /"batch":"abcdefgh"/);
    assert.equal(app.stderr(), '', 'no line per record over the limit: the record counts its dropped attributes');
  });
});
