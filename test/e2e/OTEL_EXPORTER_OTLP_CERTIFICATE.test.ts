import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverOptions } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';

// test/certs/generate.sh made these: a CA, a server certificate for 127.0.0.1 it signed, a client certificate for mTLS.
const CERTS = path.resolve(import.meta.dirname, '..', 'certs');
const file = (name: string) => path.join(CERTS, name);
const SERVER_TLS = { key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')) };

async function exportOnce(tls: ReceiverOptions['tls'], env: Record<string, string>): Promise<{ app: RunningApp; receiver: OtlpReceiver; arrived: boolean }> {
  const receiver = await startOtlpReceiver({ tls });
  // By name, as deployments do (the certificate is for localhost and 127.0.0.1): given an IP,
  // grpc-js sets it as TLS server name and Node prints a DEP0123 deprecation warning.
  const endpoint = receiver.grpcEndpoint.replace('127.0.0.1', 'localhost');
  const app = await startApp('use-express.cjs', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'tls', OTEL_EXPORTER_OTLP_TIMEOUT: '2000', ...env } });
  let arrived = false;
  try {
    await get(`${app.url}/users/1`);
    arrived = await receiver.waitForSpans((spans) => spans.length > 0, 4_000).then(
      () => true,
      () => false,
    );
  } finally {
    await app.stop();
    await receiver.close();
  }
  return { app, receiver, arrived };
}

describe('TLS to the collector: OTEL_EXPORTER_OTLP_CERTIFICATE, CLIENT_KEY, CLIENT_CERTIFICATE', () => {
  it('a collector certificate signed by a private CA is trusted with OTEL_EXPORTER_OTLP_CERTIFICATE', async () => {
    const { app, arrived } = await exportOnce(SERVER_TLS, { OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.pem') });
    assert.ok(arrived, app.stderr());
    assert.equal(app.stderr(), '');
  });

  it('without that CA the export is refused, said once, and the app serves on', async () => {
    const { app, arrived } = await exportOnce(SERVER_TLS, {});
    assert.equal(arrived, false);
    const lines = app.stderr().split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, app.stderr());
    assert.match(lines[0]!, /exporting spans to localhost:\d+ \(OTLP grpc\) failed \(14 UNAVAILABLE: .*(certificate|self-signed|self signed)/i);
  });

  it('a CA that did not sign the collector certificate is refused', async () => {
    const { app, arrived } = await exportOnce(SERVER_TLS, { OTEL_EXPORTER_OTLP_CERTIFICATE: file('other-ca.pem') });
    assert.equal(arrived, false);
    assert.match(app.stderr(), /failed \(14 UNAVAILABLE/);
  });

  it('mTLS: a collector that requires a client certificate accepts ours', async () => {
    const { app, arrived } = await exportOnce(
      { ...SERVER_TLS, ca: readFileSync(file('ca.pem')), requireClientCert: true },
      { OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.pem'), OTEL_EXPORTER_OTLP_CLIENT_KEY: file('client.key'), OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.pem') },
    );
    assert.ok(arrived, app.stderr());
    assert.equal(app.stderr(), '');
  });

  it('mTLS: without the client certificate the collector refuses, said once', async () => {
    const { app, arrived } = await exportOnce({ ...SERVER_TLS, ca: readFileSync(file('ca.pem')), requireClientCert: true }, { OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.pem') });
    assert.equal(arrived, false);
    assert.equal(app.stderr().split('\n').filter((line) => line !== '').length, 1, app.stderr());
  });

  it('the signal-specific OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE works too', async () => {
    const { app, arrived } = await exportOnce(SERVER_TLS, { OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: file('ca.pem') });
    assert.ok(arrived, app.stderr());
  });
});
