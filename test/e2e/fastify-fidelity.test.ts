import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, spanTree, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { runScript, type LoaderFlag } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

interface Report {
  printPlugins: string;
  sameShape: { equal: boolean; ms: number; spansReachable: number };
  [probe: string]: unknown;
}

async function report(flag: LoaderFlag, service: string): Promise<Report> {
  const result = await runScript('fastify-shape-report.cjs', { flag, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '', 'nothing on stderr');
  const match = /REPORT (.*)/.exec(result.stdout);
  assert.ok(match, result.stdout);
  return JSON.parse(match[1]!) as Report;
}

/** The parts that differ from run to run whatever the loader does: plugin load times, the time of a comparison. */
function comparable(report: Report): Record<string, unknown> {
  const { sameShape, printPlugins, ...rest } = report;
  return { ...rest, printPlugins: printPlugins.replace(/\d+ ms/g, 'N ms'), sameShape: { equal: sameShape.equal, spansReachable: sameShape.spansReachable } };
}

describe('Fastify hands the app what it hands it without the loader', () => {
  for (const flag of ['require', 'import'] as const) {
    it(`--${flag}: handlers, hooks, error handler, route options, thrown values, plugin tree and request/reply shapes match a bare run, while the route-named spans arrive`, async () => {
      const service = `fastify-fidelity-${flag}`;
      const [bare, traced] = await Promise.all([report('none', `${service}-bare`), report(flag, service)]);
      // A few facts of the bare run, so the comparison is known to cover them.
      assert.deepEqual((bare.invalidHooks as Record<string, string>), { asyncWithDone: 'FST_ERR_HOOK_INVALID_ASYNC_HANDLER', notAFunction: 'FST_ERR_HOOK_INVALID_HANDLER' });
      assert.equal((bare.errors as Record<string, { statusCodeSeen: number }>)['/sync-throw/error error']?.statusCodeSeen, 200, "the app's error handler sees the status Fastify has before any error handling");
      assert.equal((bare.errors as Record<string, { same: boolean }>)['/async-throw/symbol symbol']?.same, true);
      assert.equal(bare.setNotFoundHandlerReturnsInstance, true);
      assert.deepEqual(comparable(traced), comparable(bare));
      assert.equal(traced.sameShape.spansReachable, 0, 'no span is reachable from a request');
      assert.ok(traced.sameShape.ms < 500, `comparing two requests deeply took ${traced.sameShape.ms} ms`);

      const mine = (spans: ReceivedSpan[]) => spans.filter((s) => s.resource['service.name'] === service);
      const spans = mine(await receiver.waitForSpans((all) => mine(all).some((s) => s.name === 'handler - /items/:id')));
      const tree = spanTree(spans);
      const server = spans.find((s) => s.kind === 'SERVER' && s.name === 'GET /items/:id');
      assert.ok(server, `the SERVER span is named after the route:\n${tree}`);
      assert.equal(server.attributes['http.route'], '/items/:id');
      const handler = spans.find((s) => s.name === 'handler - /items/:id')!;
      assert.equal(handler.parentSpanId, server.spanId, tree);
      assert.equal(handler.kind, 'INTERNAL');
      const thrownSymbol = spans.find((s) => s.name === 'handler - /async-throw/:kind' && s.status.message === 'Symbol(thrown)');
      assert.ok(thrownSymbol, `a thrown Symbol is recorded on the handler span as it is:\n${tree}`);
    });
  }
});
