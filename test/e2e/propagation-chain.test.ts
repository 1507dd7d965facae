import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http-client.ts';
import { spanTree, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
const apps: RunningApp[] = [];
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  await receiver?.close();
});

async function hop(service: string, propagators: string, next?: RunningApp): Promise<RunningApp> {
  const app = await startApp('hop.mjs', {
    env: { OTEL_SERVICE_NAME: service, OTEL_PROPAGATORS: propagators, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, NEXT_URL: next?.url },
  });
  apps.push(app);
  return app;
}

describe('one trace across services that speak different header formats', () => {
  it('W3C -> kontur only -> vostok only -> W3C: the collector sees one trace', async () => {
    // Each hop reads only the format its OTEL_PROPAGATORS lists first and
    // writes every format it lists, so each link is carried by one format.
    const d = await hop('d-w3c', 'tracecontext');
    const c = await hop('c-vostok', 'vostok,tracecontext', d);
    const b = await hop('b-kontur', 'kontur,vostok', c);
    const a = await hop('a-w3c', 'tracecontext,kontur', b);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const reply = await get(`${a.url}/hop`, { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    assert.equal(reply.body, 'a-w3c > b-kontur > c-vostok > d-w3c > end');

    const services = ['a-w3c', 'b-kontur', 'c-vostok', 'd-w3c'];
    const serverOf = (service: string) => receiver.spans.find((s) => s.kind === 'SERVER' && s.resource['service.name'] === service);
    const clientOf = (service: string) => receiver.spans.find((s) => s.kind === 'CLIENT' && s.resource['service.name'] === service);
    await receiver.waitForSpans(() => services.every((service) => serverOf(service)) && services.slice(0, 3).every((service) => clientOf(service)));
    const tree = spanTree(receiver.spans);
    for (const service of services) assert.equal(serverOf(service)!.traceId, traceId, `${service} continues the incoming trace:\n${tree}`);
    assert.equal(serverOf('a-w3c')!.parentSpanId, 'b7ad6b7169203331', 'W3C carries the parent span');
    // X-Kontur-Trace-Id carries no span id: the parent is a generated remote span.
    assert.match(serverOf('b-kontur')!.parentSpanId, /^[0-9a-f]{16}$/);
    assert.equal(serverOf('c-vostok')!.parentSpanId, clientOf('b-kontur')!.spanId, `Context-Globals carries the span id:\n${tree}`);
    assert.equal(serverOf('d-w3c')!.parentSpanId, clientOf('c-vostok')!.spanId, tree);
  });
});
