import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../support/processes.ts';

async function loadedPackages(args: string[], env: Record<string, string> = {}): Promise<{ files: number; packages: string[] }> {
  const result = await runScript('report-loaded.cjs', { flag: 'require', args, env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env } });
  assert.equal(result.code, 0, result.stderr);
  const match = /LOADED (.*)/.exec(result.stdout);
  assert.ok(match, result.stdout);
  return JSON.parse(match[1]!) as { files: number; packages: string[] };
}

const instrumentationPackages = (packages: string[]) => packages.filter((p) => p.startsWith('@opentelemetry/instrumentation-') || p === '@fastify/otel');

describe('start-up loads only what the app uses', () => {
  it('a script that requires nothing loads no instrumentation and no exporter', async () => {
    const { packages } = await loadedPackages([]);
    assert.deepEqual(instrumentationPackages(packages), []);
    assert.ok(!packages.some((p) => p.startsWith('@opentelemetry/exporter-') || p === '@grpc/grpc-js'), `no exporter transport before the first export: ${packages.join(', ')}`);
  });

  it('requiring express loads the express and http instrumentations and no other', async () => {
    const { packages } = await loadedPackages(['express']);
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-http']);
  });

  it('requiring pg loads only the pg instrumentation', async () => {
    const { packages } = await loadedPackages(['pg']);
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-pg']);
  });

  it('inside AWS Lambda (LAMBDA_TASK_ROOT and _HANDLER set) the aws-lambda instrumentation loads at start, and no other', async () => {
    const { packages } = await loadedPackages([], { LAMBDA_TASK_ROOT: '/var/task', _HANDLER: 'index.handler' });
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-aws-lambda']);
  });

  it('OTEL_SDK_DISABLED=true loads nothing of OpenTelemetry at all', async () => {
    const { packages } = await loadedPackages(['express'], { OTEL_SDK_DISABLED: 'true' });
    assert.deepEqual(packages.filter((p) => p.startsWith('@opentelemetry/')), []);
  });
});
