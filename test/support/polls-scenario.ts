/**
 * The polls app user story, shared by its Fastify (CJS) and NestJS (ESM)
 * versions: on Cloud Run, a real PostgreSQL, every request's trace is the
 * SERVER span named by its route with the pg spans under it.
 */
import assert from 'node:assert/strict';
import { get, postJson } from './http-client.ts';
import { spanTree, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { startApp } from './processes.ts';
import type { Postgres } from './services.ts';

const CLOUD_RUN = { K_SERVICE: 'polls', K_REVISION: 'polls-00007-xyz', K_CONFIGURATION: 'polls', GOOGLE_CLOUD_PROJECT: 'acme-polls' };

function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  for (let parentId = span.parentSpanId; parentId !== ''; ) {
    if (parentId === ancestor.spanId) return true;
    parentId = spans.find((s) => s.spanId === parentId && s.traceId === span.traceId)?.parentSpanId ?? '';
  }
  return false;
}

export async function runPollsScenario(script: string, service: string, receiver: OtlpReceiver, postgres: Postgres): Promise<void> {
  const app = await startApp(script, {
    env: {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
      DATABASE_URL: postgres.url,
      PORT: '0',
      ACME_OTEL_IGNORE_PATHS: '/healthz',
      ...CLOUD_RUN,
    },
  });
  const requests: { route: string; method: string; send: () => Promise<{ status: number }> }[] = [
    { method: 'GET', route: '/polls', send: () => get(`${app.url}/polls`) },
    { method: 'GET', route: '/polls/:id', send: () => get(`${app.url}/polls/1`) },
    { method: 'POST', route: '/polls/:id/vote', send: () => postJson(`${app.url}/polls/1/vote`, { choice: 3 }) },
    { method: 'GET', route: '/polls/:id/results', send: () => get(`${app.url}/polls/1/results`) },
  ];
  const firstRequestAt = BigInt(Date.now()) * 1_000_000n;
  try {
    for (const request of requests) {
      const { status } = await request.send();
      // Nest answers a POST with 201 Created, Fastify with 200.
      assert.ok(status === 200 || (request.method === 'POST' && status === 201), `${request.route}: ${status}`);
    }
    assert.equal((await get(`${app.url}/healthz`)).status, 200);
    const mine = (spans: ReceivedSpan[]) => spans.filter((s) => s.resource['service.name'] === service);
    const isServer = (route: string) => (s: ReceivedSpan) => s.kind === 'SERVER' && s.attributes['http.route'] === route;
    await receiver.waitForSpans((all) => requests.every((r) => mine(all).some(isServer(r.route))));
    // A moment for straggling spans of the last request.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const spans = mine(receiver.spans);
    const tree = spanTree(spans);
    for (const request of requests) {
      const server = spans.find(isServer(request.route))!;
      assert.equal(server.name, `${request.method} ${request.route}`, tree);
      const trace = spans.filter((s) => s.traceId === server.traceId);
      const queries = trace.filter((s) => s.kind === 'CLIENT' && s.name.startsWith('pg.query'));
      assert.ok(queries.length >= 1, `${request.route} has pg query spans:\n${tree}`);
      for (const span of trace) assert.ok(span === server || descendsFrom(trace, span, server), `no orphan span in ${request.route}: ${span.name}\n${tree}`);
      for (const query of queries) {
        assert.equal(query.attributes['db.system.name'], 'postgresql');
        assert.equal(query.attributes['db.namespace'], 'app');
        assert.equal(typeof query.attributes['db.query.text'], 'string');
      }
      assert.ok(trace.some((s) => s.name === 'pg-pool.connect'), `the pool's connect span is in the trace:\n${tree}`);
    }
    // A span that lost its request's context starts a trace of its own, which the
    // per-trace check above cannot see: after the first request, every span must
    // belong to a request's trace (start-up work, such as the schema, came before).
    const requestTraces = new Set(spans.filter((s) => s.kind === 'SERVER').map((s) => s.traceId));
    const strays = spans.filter((s) => s.startTimeUnixNano >= firstRequestAt && !requestTraces.has(s.traceId));
    assert.deepEqual(strays.map((s) => s.name), [], `spans outside any request's trace:\n${tree}`);
    const results = spans.find(isServer('/polls/:id/results'))!;
    const literalQuery = spans.find((s) => s.traceId === results.traceId && String(s.attributes['db.query.text']).includes('votes >='));
    assert.ok(literalQuery, tree);
    assert.match(String(literalQuery.attributes['db.query.text']), /WHERE question_id = \? AND votes >= \? ORDER BY/, 'literal values are sanitized');
    const vote = spans.find((s) => String(s.attributes['db.query.text']).startsWith('UPDATE choices'));
    assert.match(String(vote?.attributes['db.query.text']), /WHERE id = \$1 AND question_id = \$2/, 'bind parameters stay as they are');
    assert.ok(!spans.some((s) => s.kind === 'SERVER' && String(s.attributes['url.path']).startsWith('/healthz')), 'ignored paths get no span');
    const resource = spans[0]!.resource;
    assert.equal(resource['cloud.provider'], 'gcp');
    assert.equal(resource['cloud.platform'], 'gcp_cloud_run');
    assert.equal(resource['faas.name'], 'polls');
    assert.equal(resource['faas.version'], 'polls-00007-xyz');
    assert.equal(resource['cloud.account.id'], 'acme-polls');
  } finally {
    await app.stop();
  }
  assert.equal(app.stderr(), '', 'nothing on stderr');
}
