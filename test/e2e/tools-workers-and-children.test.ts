import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { APP_DIR, baseEnv, startApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const run = promisify(execFile);

/** A container's environment: the loader in NODE_OPTIONS, and a config mistake that would print a line wherever we load. */
function containerEnv(service: string): Record<string, string> {
  return baseEnv({
    NODE_OPTIONS: '--import @acme/otel-register',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
    OTEL_SERVICE_NAME: service,
    OTEL_TRACES_SAMPLER: 'sometimes',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  });
}

async function runIn(cwd: string, command: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const SAMPLER_WARNING = /^@acme\/otel-register: OTEL_TRACES_SAMPLER="sometimes" is not one of/;

describe('package managers, tools, worker threads and child processes', () => {
  for (const [command, args] of [['npm', ['--version']], ['npx', ['--version']], ['node', ['--version']], ['npm', ['ls', '--depth=0']]] as const) {
    it(`\`${command} ${args.join(' ')}\` with the loader in NODE_OPTIONS is not traced and prints nothing extra`, async () => {
      const service = `tool-${command}-${args[0]}`;
      const result = await runIn(APP_DIR, command, [...args], containerEnv(service));
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /@acme\/otel-register/);
      assert.doesNotMatch(result.stdout, /@acme\/otel-register:/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.spans.filter((s) => s.resource['service.name'] === service).length, 0);
    });
  }

  it('`npm start` is not traced, but the app it starts is (npm_lifecycle_event does not turn us off)', async () => {
    const service = 'npm-started-app';
    const result = await runIn(path.join(APP_DIR, 'fixtures', 'npm-project'), 'npm', ['start', '--silent'], containerEnv(service));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /GOT done/);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, `one warning, from the app, none from npm:\n${result.stderr}`);
    assert.match(lines[0]!, SAMPLER_WARNING);
    await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'), 5_000);
  });

  for (const flag of ['require', 'import', 'node-options-import'] as const) {
    it(`a worker thread (loader via ${flag}) does not start a second SDK; the main thread still traces its requests`, async () => {
      const service = `worker-thread-${flag}`;
      const app = await startApp('use-worker-thread.cjs', { flag, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service } });
      try {
        assert.equal((await get(`${app.url}/start`)).body, 'started');
        await receiver.waitForSpans((spans) => spans.filter((s) => s.resource['service.name'] === service && s.kind === 'SERVER').length >= 2);
      } finally {
        await app.stop();
      }
      assert.match(app.stdout(), /WORKER GOT worker-ok SDK_IN_WORKER=false/);
      const spans = receiver.spans.filter((s) => s.resource['service.name'] === service);
      assert.deepEqual(spans.map((s) => s.kind).sort(), ['SERVER', 'SERVER'], 'the worker\'s fetch made no CLIENT span of a second SDK');
      assert.equal(new Set(spans.map((s) => s.resource['service.instance.id'])).size, 1);
      assert.equal(app.stderr(), '');
    });
  }

  it('a child process of a traced app is traced as its own service instance, once, though it gets the loader twice', async () => {
    const service = 'parent-and-child';
    const app = await startApp('spawn-child.cjs', { flag: 'node-options-import', nodeArgs: ['--import', '@acme/otel-register'], env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service } });
    try {
      assert.equal((await get(`${app.url}/spawn`)).body, 'spawned');
      await receiver.waitForSpans((spans) => spans.filter((s) => s.resource['service.name'] === service).length >= 3);
    } finally {
      await app.stop();
    }
    assert.match(app.stdout(), /CHILD OK GOT done/);
    const spans = receiver.spans.filter((s) => s.resource['service.name'] === service);
    const instances = new Set(spans.map((s) => s.resource['service.instance.id']));
    assert.equal(instances.size, 2, 'parent and child are two service instances');
    const child = spans.filter((s) => s.resource['process.pid'] !== spans.find((p) => p.attributes['url.path'] === '/spawn')?.resource['process.pid']);
    assert.deepEqual(child.map((s) => s.kind).sort(), ['CLIENT', 'SERVER'], 'the child traced its own request and served it, once each');
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no span exported twice');
    assert.equal(app.stderr(), '');
  });
});
