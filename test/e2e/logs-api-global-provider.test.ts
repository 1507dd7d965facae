import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type LoaderFlag } from '../support/processes.ts';

/**
 * The loader's LoggerProvider is the global one, as upstream's NodeSDK sets
 * it: records emitted through the logs API itself (@opentelemetry/api 1.10,
 * and the older @opentelemetry/api-logs) are exported like the log libraries'
 * ones, with the active span's ids. The logs SDK still loads only when a
 * record is first emitted, not when a logger is taken.
 */

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

describe('logs.getLogger(...).emit(...) from the app reaches the collector', () => {
  for (const flag of ['import', 'require'] as LoaderFlag[]) {
    it(`--${flag}: both APIs' records, with severity, body, attributes, scope and the SERVER span's ids; the logs SDK loads at the first emit`, async () => {
      const service = `logs-api-${flag}`;
      const app = await startApp('use-logs-api.cjs', { flag, env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_BLRP_SCHEDULE_DELAY: '50' } });
      try {
        assert.match(app.stdout(), /CHECK sdk-logs loaded after getLogger: false/);
        assert.equal((await get(`${app.url}/emit`)).status, 200);
        await receiver.waitForLogs((records) => records.filter((record) => record.resource['service.name'] === service).length === 2);
      } finally {
        await app.stop();
      }
      const records = receiver.logs.filter((record) => record.resource['service.name'] === service);
      const server = receiver.spans.find((span) => span.resource['service.name'] === service && span.kind === 'SERVER');
      assert.ok(server, 'the request was traced');
      const own = records.find((record) => record.scope.name === 'orders')!;
      assert.deepEqual(
        { severityNumber: own.severityNumber, severityText: own.severityText, body: own.body, attributes: own.attributes, scope: own.scope, traceId: own.traceId, spanId: own.spanId },
        { severityNumber: 13, severityText: 'WARN', body: 'stock is low', attributes: { 'order.id': 17 }, scope: { name: 'orders', version: '1.2.3' }, traceId: server.traceId, spanId: server.spanId },
      );
      const legacy = records.find((record) => record.scope.name === 'legacy-orders');
      assert.equal(legacy?.body, 'from api-logs', records.map((record) => `${record.scope.name}: ${String(record.body)}`).join('\n'));
      assert.equal(legacy.severityNumber, 9);
      assert.equal(legacy.traceId, server.traceId);
      assert.equal(app.stderr(), '');
    });
  }
});
