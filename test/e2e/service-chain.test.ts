import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';
import { startRedis, type Redis } from '../support/services.ts';

let receiver: OtlpReceiver;
let redis: Redis;
const apps: RunningApp[] = [];
before(async () => {
  // One after the other: whatever started before a failure is assigned, so `after` can stop it.
  receiver = await startOtlpReceiver();
  redis = await startRedis();
});
after(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  await Promise.all([receiver?.close(), redis?.stop()]);
});

async function service(script: string, name: string, env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await startApp(`examples/chain/${script}`, { env: { OTEL_SERVICE_NAME: name, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, PORT: '0', ...env } });
  apps.push(app);
  return app;
}

describe('a chain of services calling each other (Express CJS -> Koa ESM -> node:http)', () => {
  it('one incoming request is one trace across three processes, with a CLIENT span per call whatever the client library', async () => {
    const prices = await service('prices-http.mjs', 'prices');
    const inventory = await service('inventory-koa.mjs', 'inventory', { PRICES_URL: prices.url });
    const orders = await service('orders-express.cjs', 'orders', { INVENTORY_URL: inventory.url, REDIS_URL: redis.url });
    const reply = await get(`${orders.url}/orders/17`);
    assert.equal(reply.status, 200, reply.body);

    const servers = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.kind === 'SERVER' && s.resource['service.name'] === name);
    const spans = await receiver.waitForSpans((all) => servers(all, 'orders').length === 1 && servers(all, 'inventory').length === 2 && servers(all, 'prices').length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const tree = spanTree(receiver.spans);
    const root = servers(spans, 'orders')[0]!;
    assert.equal(root.name, 'GET /orders/:id');
    assert.ok(receiver.spans.every((s) => s.traceId === root.traceId), `one trace:\n${tree}`);
    const byId = new Map(receiver.spans.map((s) => [s.spanId, s]));
    // Every SERVER span but the root hangs off a CLIENT span of the calling service.
    for (const server of receiver.spans.filter((s) => s.kind === 'SERVER' && s !== root)) {
      const parent = byId.get(server.parentSpanId);
      assert.equal(parent?.kind, 'CLIENT', `${server.name} [${server.resource['service.name']}] has a CLIENT parent:\n${tree}`);
      assert.notEqual(parent.resource['service.name'], server.resource['service.name']);
    }
    // Koa 3 routes name the inventory SERVER spans, under which Koa's own spans hang.
    assert.deepEqual(servers(spans, 'inventory').map((s) => [s.name, s.attributes['http.route']]).sort(), [
      ['GET /inventory/:id', '/inventory/:id'],
      ['GET /inventory/:id/reserved', '/inventory/:id/reserved'],
    ], tree);
    assert.ok(receiver.spans.some((s) => s.scope.name === '@opentelemetry/instrumentation-koa' && s.resource['service.name'] === 'inventory'), `Koa spans:\n${tree}`);
    const clientsOf = (name: string) => receiver.spans.filter((s) => s.kind === 'CLIENT' && s.resource['service.name'] === name);
    const scopes = (name: string) => clientsOf(name).map((s) => s.scope.name).sort();
    assert.deepEqual(
      scopes('orders').filter((scope) => !scope.includes('ioredis')),
      ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-undici'],
      `orders calls with fetch (undici) and axios (http):\n${tree}`,
    );
    assert.deepEqual(scopes('inventory'), ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-undici'], `inventory calls with undici.request and http.request:\n${tree}`);
    const redisSpans = clientsOf('orders').filter((s) => s.scope.name.includes('ioredis'));
    // The client connects lazily, inside this request: connect/hello/info spans come along.
    const commands = redisSpans.map((s) => s.name);
    assert.ok(commands.includes('get') && commands.includes('set'), `the cache read and write are traced: ${commands.join(', ')}`);
    for (const span of redisSpans) {
      assert.equal(span.attributes['db.system.name'] ?? span.attributes['db.system'], 'redis');
      let ancestor = byId.get(span.parentSpanId);
      while (ancestor && ancestor !== root) ancestor = byId.get(ancestor.parentSpanId);
      assert.equal(ancestor, root, `redis calls belong to the request:\n${tree}`);
    }
  });
});
