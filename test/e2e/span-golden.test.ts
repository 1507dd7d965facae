/**
 * The spans and HTTP duration points real apps produce, field by field, against
 * a checked-in snapshot (test/fixtures/span-golden.json) taken from the code as
 * it was before the per-request cost work of issue #12: a cheaper request path
 * must not change what a user receives. Ids, times, ports and host values are
 * normalised; parent links are kept as the tree's shape.
 *
 * An intended change of the output: `UPDATE_SPAN_GOLDEN=1 npm test -- test/e2e/span-golden.test.ts`
 * rewrites the snapshot; review its diff.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/app-dir.ts';
import { get } from '../support/http-client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetricPoint, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startApp } from '../support/processes.ts';
import { startPostgres, type Postgres } from '../support/services.ts';

const GOLDEN_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'span-golden.json');
const UPDATE = process.env.UPDATE_SPAN_GOLDEN === '1';
/** A traceparent sent by the test: its ids are named in the snapshot, not replaced by counters. */
const REMOTE_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN_ID = 'b7ad6b7169203331';
const REMOTE_TRACEPARENT = `00-${REMOTE_TRACE_ID}-${REMOTE_SPAN_ID}-01`;
/** Resource values that are the same on every machine; the other keys are compared, their values not. */
const STABLE_RESOURCE_VALUES = new Set(['service.name', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version', 'telemetry.distro.name', 'telemetry.distro.version', 'process.runtime.name']);

interface Scenario {
  fixture: string;
  /** Sent one after another, in this order. */
  requests: { path: string; headers?: Record<string, string> }[];
  env?: () => Record<string, string>;
}

let receiver: OtlpReceiver;
let postgres: Postgres | undefined;
const golden: Record<string, unknown> = existsSync(GOLDEN_FILE) ? (JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, unknown>) : {};
const produced: Record<string, unknown> = {};

const SCENARIOS: Record<string, Scenario> = {
  'node:http server with fetch and http.get calls': {
    fixture: 'use-http-fetch.mjs',
    requests: [{ path: '/out' }, { path: '/leaf', headers: { traceparent: REMOTE_TRACEPARENT } }, { path: '/nowhere' }],
  },
  'express with middleware, a router, a route parameter, fetch, a throw and a 404': {
    fixture: 'golden-express.cjs',
    requests: [{ path: '/api/users/7' }, { path: '/chain' }, { path: '/boom' }, { path: '/missing' }],
  },
  'koa with @koa/router': { fixture: 'use-koa.mjs', requests: [{ path: '/orders/5' }] },
  'fastify with a route parameter': { fixture: 'use-fastify.cjs', requests: [{ path: '/items/3' }] },
  'express with pg and a span of its own': {
    fixture: 'use-pg-and-own-api.cjs',
    requests: [{ path: '/users/9' }],
    env: () => ({ DATABASE_URL: postgres!.url }),
  },
};

before(async () => {
  receiver = await startOtlpReceiver();
  postgres = await startPostgres();
});
after(async () => {
  await receiver?.close();
  await postgres?.stop();
  if (UPDATE) writeFileSync(GOLDEN_FILE, `${JSON.stringify(produced, null, 2)}\n`);
});

describe('span output stays as it was (golden snapshot)', () => {
  for (const [title, scenario] of Object.entries(SCENARIOS)) {
    it(title, async () => {
      const service = `golden-${scenario.fixture.replace(/\W+/g, '-')}`;
      const app = await startApp(scenario.fixture, {
        env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, ...scenario.env?.() },
      });
      const statuses: number[] = [];
      try {
        for (const request of scenario.requests) statuses.push((await get(`${app.url}${request.path}`, request.headers)).status);
        // The SERVER span ends at the response's finish, which the client may see the bytes of first.
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        // SIGTERM flushes the spans and the last metric collection before the exit.
        await app.stop();
      }
      const ports = new Map<number, string>([[app.port, '<app-port>']]);
      if (postgres !== undefined) ports.set(postgres.port, '<postgres-port>');
      const spans = receiver.spans.filter((span) => span.resource['service.name'] === service);
      const points = receiver.metrics.filter((point) => point.resource['service.name'] === service);
      const actual = { statuses, ...normaliseSpans(spans, ports), httpDurations: normaliseDurations(points, ports) };
      produced[title] = actual;
      if (UPDATE) return;
      assert.ok(title in golden, `no snapshot for "${title}" in ${GOLDEN_FILE}: regenerate it with UPDATE_SPAN_GOLDEN=1`);
      assert.deepEqual(actual, golden[title]);
    });
  }
});

interface NormalisedSpan {
  name: string;
  kind: string;
  scope: { name: string; version: string };
  flags: number;
  traceState: string;
  attributes: Record<string, unknown>;
  droppedAttributesCount: number;
  status: { code: number; message: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  children: NormalisedSpan[];
}

/** Traces as trees (ordered by start), with ids replaced by their place and the resource's keys. */
function normaliseSpans(spans: readonly ReceivedSpan[], ports: ReadonlyMap<number, string>): { resource: Record<string, unknown>; traces: { traceId: string; remoteParent: string; root: NormalisedSpan }[] } {
  const resources = new Set(spans.map((span) => JSON.stringify(normaliseResource(span.resource))));
  assert.ok(resources.size <= 1, `one resource for every span of the process: ${[...resources].join('\n')}`);
  const byStart = [...spans].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : a.name.localeCompare(b.name)));
  for (const span of byStart) assert.ok(span.endTimeUnixNano >= span.startTimeUnixNano, `${span.name} ends after it starts`);
  const ids = new Set(byStart.map((span) => span.spanId));
  assert.equal(ids.size, byStart.length, 'every span id is unique');
  const traceNames = new Map<string, string>([[REMOTE_TRACE_ID, 'remote']]);
  const traceName = (id: string) => {
    if (!traceNames.has(id)) traceNames.set(id, `trace-${traceNames.size}`);
    return traceNames.get(id)!;
  };
  const build = (span: ReceivedSpan): NormalisedSpan => ({
    name: span.name,
    kind: span.kind,
    scope: span.scope,
    flags: span.flags,
    traceState: span.traceState,
    attributes: normaliseAttributes(span.attributes, ports),
    droppedAttributesCount: span.droppedAttributesCount,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: normaliseAttributes(event.attributes, ports) })),
    links: span.links.map((link) => ({ traceId: traceName(link.traceId), spanId: link.spanId === REMOTE_SPAN_ID ? 'remote' : '<span>' })),
    // Siblings by name and scope, then start: two spans started in the same microsecond keep one order.
    children: byStart
      .filter((child) => child.parentSpanId === span.spanId && child.traceId === span.traceId)
      .sort((a, b) => a.name.localeCompare(b.name) || a.scope.name.localeCompare(b.scope.name))
      .map(build),
  });
  const roots = byStart.filter((span) => !ids.has(span.parentSpanId));
  return {
    resource: spans.length === 0 ? {} : normaliseResource(spans[0]!.resource),
    traces: roots.map((root) => ({
      traceId: traceName(root.traceId),
      remoteParent: root.parentSpanId === '' ? '' : root.parentSpanId === REMOTE_SPAN_ID ? 'remote' : '<unknown>',
      root: build(root),
    })),
  };
}

function normaliseResource(resource: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(resource)
      .sort()
      .map((key) => [key, STABLE_RESOURCE_VALUES.has(key) ? resource[key] : '<varies>']),
  );
}

/** Sorted keys; ports named; a stack trace kept to its first line. */
function normaliseAttributes(attributes: Record<string, unknown>, ports: ReadonlyMap<number, string>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(attributes).sort()) result[key] = normaliseValue(key, attributes[key], ports);
  return result;
}

function normaliseValue(key: string, value: unknown, ports: ReadonlyMap<number, string>): unknown {
  if (key === 'exception.stacktrace' && typeof value === 'string') return `${value.split('\n')[0]}\n<frames>`;
  if (/port$/.test(key) && typeof value === 'number') return ports.get(value) ?? '<ephemeral-port>';
  if (typeof value === 'string') {
    let text = value;
    for (const [port, name] of ports) text = text.replaceAll(`:${port}`, `:${name}`);
    return text;
  }
  if (Array.isArray(value)) return value.map((item) => normaliseValue(key, item, ports));
  return value;
}

/** The last (cumulative) point per metric and attribute set: its descriptor, attributes and count. */
function normaliseDurations(points: readonly ReceivedMetricPoint[], ports: ReadonlyMap<number, string>): unknown[] {
  const latest = new Map<string, ReceivedMetricPoint>();
  for (const point of points) {
    // Every http.* metric, so a duplicate (upstream's own histograms) would show too.
    if (!point.name.startsWith('http.')) continue;
    latest.set(`${point.name} ${JSON.stringify(normaliseAttributes(point.attributes, ports))}`, point);
  }
  return [...latest.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, point]) => ({
      name: point.name,
      unit: point.unit,
      type: point.type,
      temporality: point.temporality,
      scope: point.scope,
      attributes: normaliseAttributes(point.attributes, ports),
      count: point.count,
      explicitBounds: point.explicitBounds,
    }));
}
