import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { APP_DIR, baseEnv } from '../support/processes.ts';
import { freePort } from '../support/services.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const SECRET = 'd0ct0r-s3cret';

/** The way a user runs it: npx in the app directory where the packed package is installed. */
async function doctor(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['@acme/otel-register', 'doctor', ...args], {
      cwd: APP_DIR,
      env: baseEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', ...env }),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npx @acme/otel-register doctor', () => {
  it('against a working collector: exit 0, the test span arrives with the headers, which are shown masked', async () => {
    const result = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'doctor-ok', OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${SECRET}` });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^@acme\/otel-register \d+\.\d+\.\d+ doctor/);
    assert.match(result.stdout, /OTEL_EXPORTER_OTLP_ENDPOINT\s+http:\/\/127\.0\.0\.1:\d+\s+\(env OTEL_EXPORTER_OTLP_ENDPOINT\)/);
    assert.match(result.stdout, /OTEL_EXPORTER_OTLP_HEADERS\s+x-api-key=\*\*\*\*\s+\(env OTEL_EXPORTER_OTLP_HEADERS\)/);
    assert.match(result.stdout, /OTEL_TRACES_SAMPLER\s+parentbased_always_on\s+\(default\)/);
    assert.match(result.stdout, /Warnings: none/);
    assert.match(result.stdout, /\+ express \(express@5\.\d+\.\d+\)/, 'express is a dependency of the test app');
    assert.doesNotMatch(result.stdout, /\+ grpc /, 'our own transitive @grpc/grpc-js is not the project\'s');
    assert.match(result.stdout, /Export test: one span to http:\/\/127\.0\.0\.1:\d+ \(OTLP grpc, plaintext, gzip, headers x-api-key\)\n {2}OK: the collector accepted it in \d+ ms/);
    assert.match(result.stdout, /Metric export test: one metric point to http:\/\/127\.0\.0\.1:\d+ \(OTLP grpc, plaintext, gzip, headers x-api-key\)\n {2}OK: the collector accepted it in \d+ ms \(metric otel_register\.doctor\.test\)/);
    assert.match(result.stdout, /Log export test: one log record to http:\/\/127\.0\.0\.1:\d+ \(OTLP grpc, plaintext, gzip, headers x-api-key\)\n {2}OK: the collector accepted it in \d+ ms/);
    assert.match(result.stdout, /Result: OK$/m);
    assert.ok(!(result.stdout + result.stderr).includes(SECRET), 'the header value is never printed');
    const span = receiver.spans.find((s) => s.resource['service.name'] === 'doctor-ok');
    assert.ok(span, 'the test span reached the collector');
    assert.equal(span.name, 'otel-register doctor test span');
    assert.equal(receiver.requests.at(-1)?.headers['x-api-key'], SECRET);
    const point = receiver.metrics.find((p) => p.resource['service.name'] === 'doctor-ok');
    assert.ok(point, 'the test metric reached the collector');
    assert.deepEqual({ name: point.name, type: point.type, value: point.value, attributes: point.attributes, scope: point.scope.name }, { name: 'otel_register.doctor.test', type: 'sum', value: 1, attributes: { 'otel_register.doctor': true }, scope: '@acme/otel-register/doctor' });
    assert.equal(receiver.metricRequests.at(-1)?.headers['x-api-key'], SECRET);
    assert.ok(receiver.logs.some((record) => record.resource['service.name'] === 'doctor-ok'), 'the test log record reached the collector');
  });

  it("shows the metrics' configuration and sends the test metric to the metrics' own endpoint; with that collector down only its line fails", async () => {
    const result = await doctor({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
      OTEL_SERVICE_NAME: 'doctor-metrics',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.httpEndpoint}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /OTEL_METRICS_EXPORTER\s+otlp\s+\(default\)/);
    assert.match(result.stdout, /OTEL_METRIC_EXPORT_INTERVAL\s+15000 ms\s+\(env OTEL_METRIC_EXPORT_INTERVAL\)/);
    assert.match(result.stdout, /OTEL_EXPORTER_OTLP_METRICS_PROTOCOL\s+http\/json\s+\(env OTEL_EXPORTER_OTLP_METRICS_PROTOCOL\)/);
    assert.match(result.stdout, /Metric export test: one metric point to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics \(OTLP http\/json, plaintext, gzip, no headers\)\n {2}OK: /);
    const point = receiver.metrics.find((p) => p.resource['service.name'] === 'doctor-metrics');
    assert.ok(point, 'the test metric reached the collector');
    assert.equal(point.name, 'otel_register.doctor.test');
    assert.equal(receiver.metricRequests.at(-1)?.protocol, 'http/json');

    const port = await freePort();
    const failed = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stdout, /Export test: one span to .*\n {2}OK: /);
    assert.match(failed.stdout, new RegExp(`Metric export test: one metric point to http://127\\.0\\.0\\.1:${port} .*\\n {2}FAILED after \\d+ ms: 14 UNAVAILABLE: No connection established`));
    assert.match(failed.stdout, /Log export test: one log record to .*\n {2}OK: /);
    assert.match(failed.stdout, /Result: the test export failed \(metrics\)$/m);
  });

  it('a signal whose exporter is not otlp is not tested, and says why', async () => {
    const result = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Metric export test: skipped, OTEL_METRICS_EXPORTER does not include otlp \(prometheus\)/);
    assert.match(result.stdout, /Log export test: skipped, OTEL_LOGS_EXPORTER does not include otlp \(none\)/);
  });

  it("shows the logs' configuration and sends a test log record to the logs' own endpoint, naming each result", async () => {
    const result = await doctor({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
      OTEL_SERVICE_NAME: 'doctor-logs',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.httpEndpoint}/v1/logs`,
      OTEL_BLRP_MAX_QUEUE_SIZE: '4096',
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /OTEL_LOGS_EXPORTER\s+otlp\s+\(default\)/);
    assert.match(result.stdout, /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL\s+http\/protobuf\s+\(env OTEL_EXPORTER_OTLP_LOGS_PROTOCOL\)/);
    assert.match(result.stdout, /OTEL_BLRP_MAX_QUEUE_SIZE\s+4096\s+\(env OTEL_BLRP_MAX_QUEUE_SIZE\)/);
    assert.match(result.stdout, /Log export test: one log record to http:\/\/127\.0\.0\.1:\d+\/v1\/logs \(OTLP http\/protobuf, plaintext, gzip, no headers\)\n {2}OK: the collector accepted it in \d+ ms/);
    const record = receiver.logs.find((one) => one.resource['service.name'] === 'doctor-logs');
    assert.ok(record, 'the test log record reached the collector');
    assert.equal(record.body, 'otel-register doctor test log record');

    const port = await freePort();
    const failed = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stdout, /Export test: one span to .*\n {2}OK: /);
    assert.match(failed.stdout, /Metric export test: one metric point to .*\n {2}OK: /);
    assert.match(failed.stdout, new RegExp(`Log export test: one log record to http://127\\.0\\.0\\.1:${port} .*\\n {2}FAILED after \\d+ ms: 14 UNAVAILABLE`));
    assert.match(failed.stdout, /Result: the test export failed \(logs\)$/m);
  });

  it('against a dead port: exit 1 and the precise error', async () => {
    const port = await freePort();
    const result = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`FAILED after \\d+ ms: 14 UNAVAILABLE: No connection established\\. Last error: Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    assert.match(result.stdout, /Result: the test export failed \(traces, metrics, logs\)$/m);
  });

  it('OTLP/HTTP: a collector answering 401 is reported with its status', async () => {
    receiver.setBehaviour({ httpStatus: 401 });
    try {
      const result = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /Export test: one span to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(OTLP http\/protobuf, plaintext, gzip, no headers\)/);
      assert.match(result.stdout, /FAILED after \d+ ms: Unauthorized \(HTTP 401\)/);
    } finally {
      receiver.setBehaviour({});
    }
  });

  it('TLS with a custom CA is tested as configured', async () => {
    const tlsReceiver = await startOtlpReceiver({ tls: { key: await readCert('server.key'), cert: await readCert('server.pem') } });
    try {
      const endpoint = tlsReceiver.grpcEndpoint.replace('127.0.0.1', 'localhost');
      const ok = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_CERTIFICATE: certPath('ca.pem') });
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.stdout, /OTLP grpc, TLS with custom CA, gzip/);
      const refused = await doctor({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /FAILED after \d+ ms: 14 UNAVAILABLE: .*certificate/);
    } finally {
      await tlsReceiver.close();
    }
  });

  it('a bad value: exit 1 with the same warning the loader would print, and the value used instead', async () => {
    const result = await doctor({ OTEL_TRACES_SAMPLER: 'sometimes', OTEL_BSP_MAX_QUEUE_SIZE: 'big' }, ['--no-export']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Warnings \(2\)/);
    assert.match(result.stdout, /! OTEL_TRACES_SAMPLER="sometimes" is not one of .*; using parentbased_always_on/);
    assert.match(result.stdout, /! OTEL_BSP_MAX_QUEUE_SIZE="big" is not a whole number from 1 to 1000000; using 2048/);
    assert.match(result.stdout, /OTEL_BSP_MAX_QUEUE_SIZE\s+2048\s+\(env OTEL_BSP_MAX_QUEUE_SIZE\)/);
    assert.match(result.stdout, /Export test: skipped \(--no-export\)/);
  });

  it('with the loader in NODE_OPTIONS, doctor itself is not traced and prints nothing else', async () => {
    const result = await doctor({ NODE_OPTIONS: '--import @acme/otel-register', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: 'doctor-under-loader', OTEL_LOG_LEVEL: 'debug' });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // npm itself may warn about the machine's npmrc; nothing may come from us.
    assert.equal(result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('npm warn')).join('\n'), '');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(receiver.spans.filter((s) => s.resource['service.name'] === 'doctor-under-loader').map((s) => s.name), ['otel-register doctor test span']);
  });
});

const certPath = (name: string) => path.resolve(import.meta.dirname, '..', 'certs', name);
const readCert = async (name: string) => (await import('node:fs/promises')).readFile(certPath(name));
