/**
 * What the OpenTelemetry Operator does to a pod, without a cluster: its init
 * container copies the image's /autoinstrumentation into an emptyDir, the app
 * container finds `--require <dir>/autoinstrumentation.js` appended to
 * NODE_OPTIONS and the Operator's OTEL_* variables, with `$(VAR)` references
 * expanded by Kubernetes. The app's own directory has no @acme/otel-register.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, WORK_DIR } from '../support/app-dir.ts';
import { get } from '../support/http-client.ts';
import { spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp, type StartOptions } from '../support/processes.ts';
import { startPostgres, type Postgres } from '../support/services.ts';

const OPERATOR_DIR = path.join(WORK_DIR, 'operator');
const IMAGE_DIR = path.join(OPERATOR_DIR, 'image', 'autoinstrumentation');
/** The emptyDir the init container fills; the Operator's own mount path. */
const VOLUME_DIR = path.join(OPERATOR_DIR, 'otel-auto-instrumentation-nodejs');
const POD_APP_DIR = path.join(OPERATOR_DIR, 'app');
/** The app's own dependencies: no @acme/otel-register among them, its own @opentelemetry/api. */
const APP_DEPENDENCIES = ['express', 'koa', '@koa/router', 'pg', '@opentelemetry/api'];
/** The pod's containers run as another user than the one who owns the copied files, which they cannot write. */
const POD_USER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

function installPodApp(): void {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const dependencies = Object.fromEntries(APP_DEPENDENCIES.map((name) => [name, manifest.devDependencies[name] ?? manifest.dependencies[name]!]));
  const packageJson = JSON.stringify({ name: 'pod-app', private: true, dependencies }, null, 2);
  if (!existsSync(path.join(POD_APP_DIR, 'node_modules')) || readFileSync(path.join(POD_APP_DIR, 'package.json'), 'utf8') !== packageJson) {
    rmSync(POD_APP_DIR, { recursive: true, force: true });
    mkdirSync(POD_APP_DIR, { recursive: true });
    writeFileSync(path.join(POD_APP_DIR, 'package.json'), packageJson);
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: POD_APP_DIR, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  }
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures'), path.join(POD_APP_DIR, 'fixtures'), { recursive: true });
}

/** `cp -r /autoinstrumentation/. <volume>` as the init container runs it, then read-only as the app sees it. */
function initContainerCopy(): void {
  if (existsSync(VOLUME_DIR)) execFileSync('chmod', ['-R', 'u+w', VOLUME_DIR]);
  rmSync(VOLUME_DIR, { recursive: true, force: true });
  execFileSync('cp', ['-r', `${IMAGE_DIR}/.`, VOLUME_DIR]);
  execFileSync('chmod', ['-R', 'a-w', VOLUME_DIR]);
}

/** Kubernetes expands `$(NAME)` from variables defined earlier in the container's env; `$$` escapes. */
function expandLikeKubernetes(vars: [string, string][]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of vars) env[name] = value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, ref?: string) => (ref === undefined ? '$' : (env[ref] ?? match)));
  return env;
}

/** The env the Operator gives a container named `app` of Deployment `polls` (plus the app's own). */
function operatorEnv(serviceName: string, extra: [string, string][] = []): Record<string, string> {
  return expandLikeKubernetes([
    ['OTEL_NODE_IP', '10.1.2.3'],
    ['OTEL_POD_IP', '10.4.5.6'],
    ['NODE_OPTIONS', ` --require ${VOLUME_DIR}/autoinstrumentation.js`],
    ['OTEL_SERVICE_NAME', serviceName],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', receiver.grpcEndpoint],
    ['OTEL_RESOURCE_ATTRIBUTES_POD_NAME', `${serviceName}-7d4b9c-x2x9k`],
    ['OTEL_RESOURCE_ATTRIBUTES_POD_UID', '0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9'],
    ['OTEL_RESOURCE_ATTRIBUTES_NODE_NAME', 'node-a'],
    ['OTEL_PROPAGATORS', 'tracecontext,baggage'],
    ['OTEL_TRACES_SAMPLER', 'parentbased_traceidratio'],
    ['OTEL_TRACES_SAMPLER_ARG', '1'],
    ...extra,
    [
      'OTEL_RESOURCE_ATTRIBUTES',
      'k8s.container.name=app,k8s.deployment.name=polls,k8s.namespace.name=shop,k8s.node.name=$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME),' +
        'k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME),k8s.pod.uid=$(OTEL_RESOURCE_ATTRIBUTES_POD_UID),k8s.replicaset.name=polls-7d4b9c,' +
        'service.instance.id=shop.$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME).app,service.version=1.4.2',
    ],
  ]);
}

let receiver: OtlpReceiver;
let postgres: Postgres | undefined;
const apps: RunningApp[] = [];
before(async () => {
  const tarball = readdirSync(WORK_DIR).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, `npm test packs the package into ${WORK_DIR}`);
  // The README's build command, from the tarball users install.
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'k8s', 'build.mts'), '--tarball', path.join(WORK_DIR, tarball), '--out', IMAGE_DIR], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  installPodApp();
  initContainerCopy();
  // One after the other: whatever started before a failure is assigned, so `after` can stop it.
  receiver = await startOtlpReceiver();
  postgres = await startPostgres();
});
after(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  await Promise.all([receiver?.close(), postgres?.stop()]);
});

async function podApp(fixture: string, env: Record<string, string>, options: StartOptions = {}): Promise<RunningApp> {
  const app = await startApp(fixture, { flag: 'none', cwd: POD_APP_DIR, ...POD_USER, ...options, env });
  apps.push(app);
  return app;
}

const serverSpans = (service: string) => receiver.spans.filter((s) => s.kind === 'SERVER' && s.resource['service.name'] === service);

describe('the Operator image: autoinstrumentation/ built by k8s/build.mts', () => {
  it('is small, self-contained and readable by any user', () => {
    let files = 0;
    let bytes = 0;
    const walk = (directory: string) => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const full = path.join(directory, entry.name);
        const { mode, size } = statSync(full);
        assert.equal(mode & 0o044, 0o044, `${full} is readable by group and others`);
        if (entry.isDirectory()) {
          assert.equal(mode & 0o011, 0o011, `${full} can be entered by group and others`);
          walk(full);
        } else {
          files++;
          bytes += size;
        }
      }
    };
    walk(IMAGE_DIR);
    assert.ok(existsSync(path.join(IMAGE_DIR, 'autoinstrumentation.js')));
    assert.ok(files <= 200, `${files} files`);
    assert.ok(bytes <= 20 * 1024 * 1024, `${(bytes / 1024 / 1024).toFixed(1)} MB`);
  });

  it('traces a CommonJS Express app with PostgreSQL from a read-only copy, with the k8s.* resource, and the app\'s own @opentelemetry/api joins the trace', async () => {
    assert.ok(!existsSync(path.join(POD_APP_DIR, 'node_modules', '@acme')), 'the app does not depend on the loader');
    const app = await podApp('use-pg-and-own-api.cjs', operatorEnv('polls', [['DATABASE_URL', postgres!.url]]));
    const reply = await get(`${app.url}/users/7`);
    assert.equal(reply.body, '{"id":7}');
    await receiver.waitForSpans(() => serverSpans('polls').length === 1 && receiver.spans.some((s) => s.name === 'load user'));
    const tree = spanTree(receiver.spans);
    const server = serverSpans('polls')[0]!;
    assert.equal(server.name, 'GET /users/:id', tree);
    assert.equal(server.attributes['http.route'], '/users/:id');
    const trace = receiver.spans.filter((s) => s.traceId === server.traceId);
    const own = trace.find((s) => s.name === 'load user');
    assert.ok(own, `the app's manual span is in the request's trace:\n${tree}`);
    const query = trace.find((s) => s.scope.name === '@opentelemetry/instrumentation-pg' && s.kind === 'CLIENT');
    assert.ok(query, `a pg span in the request's trace:\n${tree}`);
    assert.equal(query.parentSpanId, own.spanId, 'the query runs inside the app\'s own span');
    assert.deepEqual(
      Object.fromEntries(['k8s.namespace.name', 'k8s.deployment.name', 'k8s.pod.name', 'k8s.pod.uid', 'k8s.node.name', 'k8s.container.name', 'service.instance.id', 'service.version'].map((key) => [key, server.resource[key]])),
      {
        'k8s.namespace.name': 'shop',
        'k8s.deployment.name': 'polls',
        'k8s.pod.name': 'polls-7d4b9c-x2x9k',
        'k8s.pod.uid': '0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9',
        'k8s.node.name': 'node-a',
        'k8s.container.name': 'app',
        'service.instance.id': 'shop.polls-7d4b9c-x2x9k.app',
        'service.version': '1.4.2',
      },
    );
    assert.deepEqual(await app.stop('SIGTERM'), { code: null, signal: 'SIGTERM' }, 'the pod ends by SIGTERM as it would bare');
    assert.equal(app.stderr(), '', 'nothing on stderr');
  });

  it('traces an ES module Koa app (the Operator injects only --require)', async () => {
    const app = await podApp('use-koa.mjs', operatorEnv('orders'));
    await get(`${app.url}/orders/9`);
    await receiver.waitForSpans(() => serverSpans('orders').length === 1);
    const server = serverSpans('orders')[0]!;
    assert.equal(server.name, 'GET /orders/:id', spanTree(receiver.spans));
    assert.equal(server.attributes['http.route'], '/orders/:id');
    assert.ok(receiver.spans.some((s) => s.traceId === server.traceId && s.scope.name === '@opentelemetry/instrumentation-koa'), 'Koa\'s own spans');
    assert.deepEqual(await app.stop('SIGTERM'), { code: null, signal: 'SIGTERM' });
  });

  it('carries a trace across ES module services that speak kontur and vostok only', async () => {
    const last = await podApp('hop.mjs', operatorEnv('hop-vostok', [['OTEL_PROPAGATORS', 'vostok']]));
    const middle = await podApp('hop.mjs', operatorEnv('hop-kontur', [['OTEL_PROPAGATORS', 'kontur,vostok'], ['NEXT_URL', last.url]]));
    const first = await podApp('hop.mjs', operatorEnv('hop-w3c', [['OTEL_PROPAGATORS', 'tracecontext,kontur'], ['NEXT_URL', middle.url]]));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const reply = await get(`${first.url}/hop`, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    assert.equal(reply.body, 'hop-w3c > hop-kontur > hop-vostok > end');
    const services = ['hop-w3c', 'hop-kontur', 'hop-vostok'];
    await receiver.waitForSpans(() => services.every((service) => serverSpans(service).length === 1));
    const tree = spanTree(receiver.spans.filter((s: ReceivedSpan) => s.traceId === traceId));
    for (const service of services) assert.equal(serverSpans(service)[0]!.traceId, traceId, `${service} continues the trace:\n${tree}`);
  });

  it('with the npm package in NODE_OPTIONS too, there is one SDK: one SERVER span per request', async () => {
    const env = operatorEnv('twice');
    env.NODE_OPTIONS = `${env.NODE_OPTIONS} --require @acme/otel-register`;
    // The test app directory, where @acme/otel-register is installed.
    const app = await startApp('use-express.cjs', { flag: 'none', env });
    apps.push(app);
    await get(`${app.url}/users/1`);
    await get(`${app.url}/users/2`);
    await receiver.waitForSpans(() => serverSpans('twice').length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(serverSpans('twice').length, 2, spanTree(receiver.spans.filter((s) => s.resource['service.name'] === 'twice')));
    assert.equal(app.stderr(), '');
  });
});

