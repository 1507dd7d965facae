import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript, type LoaderFlag } from '../support/processes.ts';

interface Loaded {
  files: number;
  packages: string[];
  /** Files of @acme/otel-register, relative to its root. */
  ownFiles: string[];
  /** Whether anything subscribes to Fastify's handler tracing channel (our Fastify instrumentation does). */
  fastifyChannel: boolean;
  /** Distinct @opentelemetry/core module instances in require's cache. */
  coreInstances: number;
  /** Whether Node's http2 module was loaded (about 20 ms). */
  http2Loaded: boolean;
  stderr: string;
}

/** CommonJS app with --require, or an ES module app with --import: report-loaded.(c|m)js. */
async function loadedPackages(args: string[], env: Record<string, string> = {}, flag: LoaderFlag = 'require'): Promise<Loaded> {
  const script = flag === 'require' ? 'report-loaded.cjs' : 'report-loaded.mjs';
  const result = await runScript(script, { flag, args, env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env } });
  assert.equal(result.code, 0, result.stderr);
  const match = /LOADED (.*)/.exec(result.stdout);
  assert.ok(match, result.stdout);
  return { ...(JSON.parse(match[1]!) as Omit<Loaded, 'stderr'>), stderr: result.stderr };
}

// runtime-node patches no module: its collectors start with the metrics (checked below).
const instrumentationPackages = (packages: string[]) => packages.filter((p) => p.startsWith('@opentelemetry/instrumentation-') && p !== '@opentelemetry/instrumentation-runtime-node');

describe('start-up loads only what the app uses', () => {
  it('a script that requires nothing loads no instrumentation and no exporter', async () => {
    const { packages, http2Loaded } = await loadedPackages([]);
    assert.deepEqual(instrumentationPackages(packages), []);
    assert.equal(http2Loaded, false, 'node:http2 (our gRPC transport) waits for the first export');
    assert.ok(!packages.some((p) => p.startsWith('@opentelemetry/exporter-') || p === '@grpc/grpc-js'), `no exporter transport before the first export: ${packages.join(', ')}`);
  });

  it('requiring express loads the express and http instrumentations and no other', async () => {
    const { packages } = await loadedPackages(['express']);
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-http']);
  });

  it('instrumentation-http, which pins core 3.1.0 under its own node_modules, is handed the bundled core 3.1.1 instead of loading a second copy', async () => {
    const { coreInstances } = await loadedPackages(['express']);
    assert.equal(coreInstances, 1);
  });

  it("requiring fastify subscribes to Fastify's handler channel and loads the http instrumentation only; requiring express does not subscribe", async () => {
    const withFastify = await loadedPackages(['fastify']);
    assert.equal(withFastify.fastifyChannel, true);
    assert.deepEqual(instrumentationPackages(withFastify.packages), ['@opentelemetry/instrumentation-http']);
    assert.equal((await loadedPackages(['express'])).fastifyChannel, false);
    assert.equal((await loadedPackages([])).fastifyChannel, false);
  });

  it("an ES module app importing fastify subscribes to Fastify's handler channel", async () => {
    const { fastifyChannel, packages } = await loadedPackages(['fastify'], {}, 'import');
    assert.equal(fastifyChannel, true);
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-http']);
  });

  it('requiring pg loads only the pg instrumentation', async () => {
    const { packages } = await loadedPackages(['pg']);
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-pg']);
  });

  it('inside AWS Lambda (LAMBDA_TASK_ROOT and _HANDLER set) the aws-lambda instrumentation loads at start, and no other', async () => {
    const { packages } = await loadedPackages([], { LAMBDA_TASK_ROOT: '/var/task', _HANDLER: 'index.handler' });
    assert.deepEqual(instrumentationPackages(packages), ['@opentelemetry/instrumentation-aws-lambda']);
  });

  it('metrics: the runtime collectors start with them, no metric exporter loads before the first collection, Prometheus only when named, nothing with none', async () => {
    const byDefault = await loadedPackages([]);
    assert.ok(byDefault.packages.includes('@opentelemetry/instrumentation-runtime-node'), byDefault.packages.join(', '));
    assert.ok(!byDefault.packages.includes('@opentelemetry/instrumentation'), `runtime metrics without InstrumentationBase: ${byDefault.packages.join(', ')}`);
    assert.deepEqual(byDefault.packages.filter((p) => p.startsWith('@opentelemetry/exporter-') || p === '@grpc/grpc-js'), []);
    const withPrometheus = await loadedPackages([], { OTEL_METRICS_EXPORTER: 'otlp,prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
    assert.deepEqual(withPrometheus.packages.filter((p) => p.startsWith('@opentelemetry/exporter-')), ['@opentelemetry/exporter-prometheus']);
    const none = await loadedPackages([], { OTEL_METRICS_EXPORTER: 'none' });
    assert.deepEqual(none.packages.filter((p) => p === '@opentelemetry/instrumentation-runtime-node' || p.startsWith('@opentelemetry/exporter-')), []);
    assert.ok(none.files <= byDefault.files - 6, `metrics off reads fewer files (${none.files} vs ${byDefault.files})`);
  });

  for (const flag of ['require', 'import'] as const) {
    it(`OTEL_SDK_DISABLED=true loads nothing of OpenTelemetry at all (--${flag}): not the SDK bundle, not the module hooks`, async () => {
      const { packages, ownFiles, stderr } = await loadedPackages(['express'], { OTEL_SDK_DISABLED: 'true' }, flag);
      assert.ok(packages.includes('express'), 'the app ran');
      assert.equal(stderr, '');
      assert.deepEqual(packages.filter((p) => p.startsWith('@opentelemetry/') || p.endsWith('-in-the-middle')), []);
      assert.ok(ownFiles.includes('dist/register.js'), ownFiles.join(', '));
      assert.ok(!ownFiles.includes('dist/src/start.js'), `the SDK bundle stays unread: ${ownFiles.join(', ')}`);
    });
  }

  it('an ES module app with --import: importing nothing loads no instrumentation; importing express loads the express and http ones only', async () => {
    const nothing = await loadedPackages([], {}, 'import');
    assert.ok(nothing.ownFiles.includes('dist/src/start.js'), 'the SDK started');
    assert.deepEqual(instrumentationPackages(nothing.packages), []);
    const withExpress = await loadedPackages(['express'], {}, 'import');
    assert.deepEqual(instrumentationPackages(withExpress.packages), ['@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-http']);
  });
});
