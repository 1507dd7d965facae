import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { FastifyDiagnosticsInstrumentation } from '../../../src/instrumentations/fastify.ts';

const requireFromRepo = createRequire(path.resolve(import.meta.dirname, '..', '..', '..', 'package.json'));
type Fastify = (options?: object) => {
  get(url: string, handler: (request: never, reply: never) => unknown): void;
  setErrorHandler(handler: (error: unknown, request: unknown, reply: { statusCode: number; send(body: unknown): void }) => void): void;
  inject(url: string): Promise<{ statusCode: number; body: string }>;
};
const fastify = requireFromRepo('fastify') as Fastify;

const exporter = new InMemorySpanExporter();
let instrumentation: FastifyDiagnosticsInstrumentation;
before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  instrumentation = new FastifyDiagnosticsInstrumentation();
});
after(() => {
  instrumentation.disable();
  trace.disable();
  context.disable();
});
afterEach(() => exporter.reset());

/** An error handler that sets no status, as some apps have: it sees what Fastify has set by then. */
function appWithErrorHandler() {
  const app = fastify();
  app.setErrorHandler((_error, _request, reply) => reply.send({ statusSeen: reply.statusCode }));
  return app;
}

describe('the Fastify instrumentation (fastify.request.handler tracing channel)', () => {
  it('makes the handler span active inside the handler, named after the route', async () => {
    const app = fastify();
    let activeInHandler: string | undefined;
    app.get('/items/:id', async () => {
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      return 'ok';
    });
    assert.equal((await app.inject('/items/1')).statusCode, 200);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'handler - /items/:id');
    assert.equal(span?.attributes['http.route'], '/items/:id');
    assert.equal(activeInHandler, span?.spanContext().spanId);
  });

  it('the span of an async handler that hijacks the reply ends too (Fastify publishes no asyncStart for it)', async () => {
    const app = fastify();
    app.get('/hijack', async (_request: unknown, reply: { hijack(): void; raw: { end(body: string): void } }) => {
      reply.hijack();
      reply.raw.end('raw');
    });
    assert.equal((await app.inject('/hijack')).body, 'raw');
    assert.deepEqual(exporter.getFinishedSpans().map((span) => span.name), ['handler - /hijack']);
  });

  it("a thrown value whose message getter throws is recorded without crashing the app, and the app's error handler gets it", async () => {
    const app = appWithErrorHandler();
    const hostile = Object.create(Error.prototype, { message: { get() { throw new Error('getter'); } } }) as Error;
    app.get('/hostile', () => {
      throw hostile;
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const response = await app.inject('/hostile');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(response.statusCode, 200);
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('the error handler sees the status it sees without subscribers; with an app subscriber, what Fastify does for subscribers', async () => {
    const app = appWithErrorHandler();
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    assert.equal(JSON.parse((await app.inject('/boom')).body).statusSeen, 200);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.status.message, 'boom');
    const appSubscriber = () => undefined;
    diagnosticsChannel.subscribe('tracing:fastify.request.handler:error', appSubscriber);
    try {
      assert.equal(JSON.parse((await app.inject('/boom')).body).statusSeen, 500);
    } finally {
      diagnosticsChannel.unsubscribe('tracing:fastify.request.handler:error', appSubscriber);
    }
  });
});
