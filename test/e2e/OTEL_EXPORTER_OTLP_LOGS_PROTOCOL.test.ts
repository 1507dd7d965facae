import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ofService, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript } from '../support/processes.ts';

/**
 * The OTEL_EXPORTER_OTLP_LOGS_* variables choose the logs' own protocol and
 * endpoint (the specific one used as is, the generic one with /v1/logs
 * appended for OTLP/HTTP), gzip by default, whatever the traces use.
 */

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

describe('log records over each OTLP protocol', () => {
  const cases = [
    {
      name: 'http/protobuf through OTEL_EXPORTER_OTLP_LOGS_PROTOCOL and _ENDPOINT, while spans go over gRPC',
      protocol: 'http/protobuf',
      env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.httpEndpoint}/v1/logs` }),
    },
    {
      name: 'http/json through the generic OTEL_EXPORTER_OTLP_PROTOCOL and _ENDPOINT (+ /v1/logs)',
      protocol: 'http/json',
      env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    },
    {
      name: 'gzip off with OTEL_EXPORTER_OTLP_LOGS_COMPRESSION=none',
      protocol: 'grpc',
      compression: 'none',
      env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none' }),
    },
  ];
  for (const scenario of cases) {
    it(scenario.name, async () => {
      const serviceName = `logs-protocol-${scenario.protocol}-${scenario.compression ?? 'gzip'}`;
      const run = await runScript('use-bunyan.cjs', { flag: 'import', env: { ...scenario.env(), OTEL_SERVICE_NAME: serviceName, OTEL_BLRP_SCHEDULE_DELAY: '50' } });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      const logs = (await receiver.waitForLogs((all) => all.filter(ofService(serviceName)).length >= 8)).filter(ofService(serviceName));
      assert.equal(logs.length, 8);
      assert.ok(logs.some((record) => record.body === 'in the request' && /^[0-9a-f]{32}$/.test(record.traceId)));
      const requests = receiver.requests.filter((request) => (request.logRecordCount ?? 0) > 0 && request.protocol === scenario.protocol);
      assert.ok(requests.length > 0, JSON.stringify(receiver.requests.map((r) => [r.protocol, r.logRecordCount])));
      for (const request of requests) assert.equal(request.compressed, scenario.compression !== 'none');
    });
  }
});
