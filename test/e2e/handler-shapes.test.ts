import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, spanTree, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { runScript } from '../support/processes.ts';

// fixtures/handler-shapes.cjs records what Express, Koa (with @koa/router) and
// Nest hand to the app's middleware and handlers (next's identity and shape,
// `this`, argument counts, req/res own keys, symbols, listener counts, emit,
// app.middleware, router stacks, thrown values, responses) and prints it as JSON.
// The report with the loader must be the report without it.

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

type Report = Record<string, unknown>;

async function report(framework: string, withLoader: boolean, env: Record<string, string> = {}): Promise<Report> {
  const service = `shapes-${framework}`;
  const result = await runScript('handler-shapes.cjs', {
    flag: withLoader ? 'require' : 'none',
    args: [framework],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, ...env },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '', 'nothing on stderr');
  const line = result.stdout.split('\n').find((text) => text.startsWith('REPORT '));
  assert.ok(line, result.stdout);
  return JSON.parse(line.slice('REPORT '.length)) as Report;
}

async function spansOf(service: string, predicate: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const mine = (all: ReceivedSpan[]) => all.filter((span) => span.resource['service.name'] === service);
  return mine(await receiver.waitForSpans((all) => predicate(mine(all))));
}

describe('handlers and middleware get what the framework gives them, with the loader as without', () => {
  it('Express: next is the router\'s own (=== req.next, the same across middleware), layer functions, req/res keys, listeners and emit unchanged', async () => {
    const bare = await report('express', false);
    const loaded = await report('express', true);
    // The fixture measures what it should: these hold bare.
    assert.equal(bare['express.middleware.nextIsReqNext'], true);
    assert.equal(bare['express.middleware.sameNextAsBefore'], true);
    assert.deepEqual(bare['express.format.sameArgs'], [true, true, true]);
    assert.equal((bare['express.res'] as { emitIsEventEmitters: boolean }).emitIsEventEmitters, true);
    assert.deepEqual(loaded, bare);
    // Trace headers on responses are written without a writeHead of ours on `res`.
    assert.deepEqual(await report('express', true, { ACME_OTEL_RESPONSE_HEADERS: 'traceresponse,server-timing' }), bare);
    const spans = await spansOf('shapes-express', (all) => all.filter((span) => span.name === 'request handler').length >= 6);
    const tree = spanTree(spans);
    const server = spans.find((span) => span.kind === 'SERVER' && span.attributes['http.route'] === '/users/:id');
    assert.ok(server, tree);
    const children = spans.filter((span) => span.parentSpanId === server.spanId).map((span) => span.name);
    assert.deepEqual(children, ['middleware - outerMiddleware', 'middleware - secondMiddleware', 'request handler'], `Express spans are siblings under the SERVER span:\n${tree}`);
    assert.ok(spans.every((span) => span.kind !== 'INTERNAL' || span.scope.name === '@opentelemetry/instrumentation-express'), tree);
    const failed = spans.find((span) => span.kind === 'SERVER' && span.attributes['http.route'] === '/throws-symbol');
    const handler = spans.find((span) => span.parentSpanId === failed?.spanId && span.name === 'request handler');
    assert.equal(handler?.status.code, 2, `the handler that threw is marked as an error:\n${tree}`);
  });

  it('Koa: app.use(non-function) throws Koa\'s own error; app.middleware and @koa/router stacks keep the app\'s functions', async () => {
    const bare = await report('koa', false);
    const loaded = await report('koa', true);
    assert.equal(bare['koa.use.null'], 'TypeError: middleware must be a function!');
    assert.deepEqual(loaded, bare);
    const spans = await spansOf('shapes-koa', (all) => all.some((span) => span.name === 'router - /orders/:id'));
    const tree = spanTree(spans);
    const router = spans.find((span) => span.name === 'router - /orders/:id');
    assert.equal(router?.scope.name, '@opentelemetry/instrumentation-koa', tree);
    assert.equal(router?.attributes['http.route'], '/orders/:id');
    assert.ok(spans.some((span) => span.name === 'middleware - firstMiddleware'), tree);
  });

  it('Nest (Express): controller `this`, @Next() and middleware next, req/res unchanged', async () => {
    const bare = await report('nest', false);
    const loaded = await report('nest', true);
    assert.equal(bare['nest.handler.this'], 'controller');
    assert.deepEqual(loaded, bare);
    const spans = await spansOf('shapes-nest', (all) => all.some((span) => span.scope.name === '@opentelemetry/instrumentation-nestjs-core'));
    assert.ok(spans.some((span) => span.scope.name === '@opentelemetry/instrumentation-express'), spanTree(spans));
  });
});
