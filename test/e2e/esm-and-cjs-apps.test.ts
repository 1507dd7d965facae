import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, spanTree, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { APP_DIR } from '../support/app-dir.ts';
import { oldestSupportedNode } from '../support/oldest-node.ts';
import { startApp, type LoaderFlag } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

function otlpEnv(serviceName: string): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: serviceName };
}

function byService(serviceName: string) {
  return (spans: ReceivedSpan[]) => spans.filter((span) => span.resource['service.name'] === serviceName);
}

/** Drives GET /chain (which fetches /users/42 from itself) and checks the whole trace. */
async function assertChainTrace(fixture: string, flag: LoaderFlag, serviceName: string, nodeBinary?: string) {
  const app = await startApp(fixture, { flag, env: otlpEnv(serviceName), nodeBinary });
  try {
    const reply = await get(`${app.url}/chain`);
    assert.equal(reply.status, 200, reply.body);
    const mine = byService(serviceName);
    const spans = mine(await receiver.waitForSpans((all) => mine(all).filter((s) => s.kind === 'SERVER').length >= 2 && mine(all).some((s) => s.kind === 'CLIENT')));
    const tree = spanTree(spans);
    const outer = spans.find((s) => s.kind === 'SERVER' && s.attributes['http.route'] === '/chain');
    const inner = spans.find((s) => s.kind === 'SERVER' && s.attributes['http.route'] === '/users/:id');
    const client = spans.find((s) => s.kind === 'CLIENT');
    assert.ok(outer && inner && client, `expected two SERVER spans and a CLIENT span:\n${tree}`);
    assert.equal(outer.name, 'GET /chain', 'the SERVER span is named after its route');
    assert.equal(inner.name, 'GET /users/:id');
    assert.equal(outer.parentSpanId, '', 'the incoming request starts the trace');
    assert.equal(client.traceId, outer.traceId);
    assert.equal(inner.traceId, outer.traceId, `one trace across the hop:\n${tree}`);
    assert.equal(inner.parentSpanId, client.spanId, `the downstream SERVER span is a child of the fetch CLIENT span:\n${tree}`);
    const clientAncestors = new Set<string>();
    for (let id = client.parentSpanId; id !== ''; id = spans.find((s) => s.spanId === id)?.parentSpanId ?? '') clientAncestors.add(id);
    assert.ok(clientAncestors.has(outer.spanId), `the CLIENT span descends from the outer SERVER span:\n${tree}`);
    assert.equal(outer.resource['service.name'], serviceName);
    assert.equal(outer.resource['telemetry.distro.name'], '@acme/otel-register');
    const grpcRequests = receiver.requests.filter((r) => r.protocol === 'grpc');
    assert.ok(grpcRequests.length > 0 && grpcRequests.every((r) => r.compressed && r.encoding === 'gzip'), 'spans travel gzip-compressed by default');
    assert.equal(app.stderr(), '', 'nothing printed on stderr');
  } finally {
    await app.stop();
  }
}

describe('zero-code tracing of real apps', () => {
  it('an ESM express app gets http.route and a linked trace with only --import', async () => {
    await assertChainTrace('use-express.mjs', 'import', 'esm-express');
  });

  it('on Node 22.15, the oldest supported (no in-thread ESM hooks: the module.register fallback), an ESM express app is traced with only --import', async () => {
    const oldest = oldestSupportedNode();
    assert.equal(execFileSync(oldest, ['--version'], { encoding: 'utf8' }).trim(), 'v22.15.0');
    // Proof that this run takes the fallback: import-in-the-middle says it cannot hook in-thread here.
    const probe = "const { supportsSyncHooks } = await import('import-in-the-middle/register-hooks.mjs'); console.log(supportsSyncHooks())";
    assert.equal(execFileSync(oldest, ['--input-type=module', '-e', probe], { encoding: 'utf8', cwd: path.join(APP_DIR, 'node_modules', '@acme', 'otel-register') }).trim(), 'false');
    await assertChainTrace('use-express.mjs', 'import', 'esm-express-node-22-15', oldest);
  });

  it('a CJS express app is traced with --require', async () => {
    await assertChainTrace('use-express.cjs', 'require', 'cjs-express-require');
  });

  it('a CJS express app is traced with --import', async () => {
    await assertChainTrace('use-express.cjs', 'import', 'cjs-express-import');
  });

  it('NODE_OPTIONS="--import @acme/otel-register" traces an ESM app', async () => {
    await assertChainTrace('use-express.mjs', 'node-options-import', 'esm-express-node-options');
  });

  it('NODE_OPTIONS="--require @acme/otel-register" traces a CJS app', async () => {
    await assertChainTrace('use-express.cjs', 'node-options-require', 'cjs-express-node-options');
  });

  it('a node:http server gets CLIENT spans for fetch and http.get under its SERVER span', async () => {
    const app = await startApp('use-http-fetch.mjs', { env: otlpEnv('plain-http') });
    try {
      const reply = await get(`${app.url}/out`);
      assert.equal(reply.body, 'fetch 200 http 200');
      const mine = byService('plain-http');
      const spans = mine(await receiver.waitForSpans((all) => mine(all).filter((s) => s.kind === 'SERVER').length >= 3 && mine(all).filter((s) => s.kind === 'CLIENT').length >= 2));
      const tree = spanTree(spans);
      const root = spans.find((s) => s.kind === 'SERVER' && s.parentSpanId === '');
      assert.ok(root, tree);
      const clients = spans.filter((s) => s.kind === 'CLIENT');
      assert.equal(clients.length, 2, tree);
      for (const client of clients) {
        assert.equal(client.parentSpanId, root.spanId, `each outgoing call is a child of the incoming request:\n${tree}`);
        const served = spans.find((s) => s.kind === 'SERVER' && s.parentSpanId === client.spanId);
        assert.ok(served, `the call's own SERVER span continues the trace:\n${tree}`);
      }
      assert.ok(clients.some((s) => s.scope.name.includes('undici')), `fetch is traced by the undici instrumentation:\n${tree}`);
      assert.ok(clients.some((s) => s.scope.name.includes('http')), `http.get is traced by the http instrumentation:\n${tree}`);
    } finally {
      await app.stop();
    }
  });

  it('loading the loader twice starts one SDK: every request yields exactly one SERVER span', async () => {
    const app = await startApp('use-express.cjs', {
      flag: 'node-options-import',
      nodeArgs: ['--import', '@acme/otel-register', '--require', '@acme/otel-register'],
      env: otlpEnv('double-load'),
    });
    try {
      await get(`${app.url}/users/7`);
      const mine = byService('double-load');
      await receiver.waitForSpans((all) => mine(all).some((s) => s.kind === 'SERVER'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const servers = mine(receiver.spans).filter((s) => s.kind === 'SERVER');
      assert.equal(servers.length, 1, spanTree(mine(receiver.spans)));
    } finally {
      await app.stop();
    }
  });
});
