import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, startHeaderRecorder } from '../support/http-client.ts';
import { spanTree, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type RunningApp } from '../support/processes.ts';

/**
 * W3C Trace Context as the spec reads today (w3c/trace-context main): the
 * random-trace-id flag (0x02) of the incoming traceparent is on every
 * traceparent we send for that trace (fetch and node:http), on traceresponse
 * and Server-Timing, and on the exported spans; a trace we start has it set.
 * tracestate with keys of the current grammar and a duplicated key is
 * inherited.
 */
let receiver: OtlpReceiver | undefined;
let downstream: Awaited<ReturnType<typeof startHeaderRecorder>> | undefined;
let app: RunningApp | undefined;

before(async () => {
  receiver = await startOtlpReceiver();
  downstream = await startHeaderRecorder();
  app = await startApp('use-http-fetch.mjs', {
    env: {
      OTEL_SERVICE_NAME: 'w3c',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
      OTEL_PROPAGATORS: 'tracecontext,b3',
      ACME_OTEL_RESPONSE_HEADERS: 'traceresponse,server-timing',
      DOWNSTREAM_URL: downstream.url,
    },
  });
});

after(async () => {
  // Tolerates a half-done set-up: whatever started is stopped.
  await app?.stop();
  await downstream?.close();
  await receiver?.close();
});

const PARENT_SPAN_ID = '00f067aa0ba902b7';

describe('W3C Trace Context: the random-trace-id flag and tracestate across a service', () => {
  // incoming: the caller's trace-flags, or undefined for no traceparent. flags: what every header we write must carry.
  const cases: { name: string; traceId?: string; incoming?: string; tracestate?: string; flags: string; sentTracestate?: string }[] = [
    {
      name: 'incoming 03 (sampled, random) goes out as 03, with its tracestate of current-grammar keys, each once',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4703',
      incoming: '03',
      tracestate: 'foo@=1,congo=t61rcWkgMzE,t@v@w=2,foo@=3',
      flags: '03',
      sentTracestate: 'foo@=1,congo=t61rcWkgMzE,t@v@w=2',
    },
    { name: 'incoming 01 (sampled, not random) goes out as 01', traceId: '4bf92f3577b34da6a3ce929d0e0e4701', incoming: '01', flags: '01' },
    { name: 'incoming 02 (random, not sampled) goes out as 02', traceId: '4bf92f3577b34da6a3ce929d0e0e4702', incoming: '02', flags: '02' },
    { name: 'incoming 00 goes out as 00', traceId: '4bf92f3577b34da6a3ce929d0e0e4700', incoming: '00', flags: '00' },
    { name: 'no traceparent: the trace we start is sampled and random, 03', flags: '03' },
  ];

  for (const { name, traceId: incomingTraceId, incoming, tracestate, flags, sentTracestate } of cases) {
    it(name, async () => {
      downstream!.requests.length = 0;
      const headers: Record<string, string> = {};
      if (incoming !== undefined) headers.traceparent = `00-${incomingTraceId}-${PARENT_SPAN_ID}-${incoming}`;
      if (tracestate !== undefined) headers.tracestate = tracestate;
      const reply = await get(`${app!.url}/out`, headers);
      assert.equal(reply.status, 200, reply.body);

      // The response: traceresponse and Server-Timing name our SERVER span, with the flags.
      const traceresponse = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(reply.headers.traceresponse));
      assert.ok(traceresponse, `traceresponse: ${reply.headers.traceresponse}`);
      const [, traceId, serverSpanId, responseFlags] = traceresponse;
      if (incomingTraceId !== undefined) assert.equal(traceId, incomingTraceId, 'the incoming trace continues');
      assert.equal(responseFlags, flags, 'traceresponse flags');
      assert.equal(reply.headers['server-timing'], `traceparent;desc="00-${traceId}-${serverSpanId}-${flags}"`);

      // Downstream: one request by fetch, one by node:http, both with the flags; b3's sampled is bit 0x01 alone.
      assert.equal(downstream!.requests.length, 2, 'fetch and http.get reached the downstream server');
      const sampled = (parseInt(flags, 16) & 0x01) === 0x01;
      const clientSpanIds: string[] = [];
      for (const request of downstream!.requests) {
        const traceparent = new RegExp(`^00-${traceId}-([0-9a-f]{16})-${flags}$`).exec(String(request.traceparent));
        assert.ok(traceparent, `downstream traceparent ${request.traceparent}, expected trace ${traceId} and flags ${flags}`);
        const clientSpanId = traceparent[1]!;
        assert.notEqual(clientSpanId, serverSpanId, 'the parent downstream is our CLIENT span');
        assert.equal(request.b3, `${traceId}-${clientSpanId}-${sampled ? 1 : 0}`, 'b3 reads the sampled bit, not the whole flags');
        assert.equal(request.tracestate, sentTracestate, 'tracestate is inherited as parsed');
        clientSpanIds.push(clientSpanId);
      }

      // The exported spans carry the same flags (OTLP Span.flags, bits 0-7 are the W3C trace flags).
      if (!sampled) return;
      const ours = () => receiver!.spans.filter((span) => span.traceId === traceId);
      await receiver!.waitForSpans(() => [serverSpanId, ...clientSpanIds].every((id) => ours().some((span) => span.spanId === id)));
      const tree = spanTree(ours());
      for (const spanId of [serverSpanId, ...clientSpanIds]) {
        const span = ours().find((candidate) => candidate.spanId === spanId)!;
        assert.equal(span.flags & 0xff, parseInt(flags, 16), `${span.kind} ${span.name} flags:\n${tree}`);
        assert.equal(span.traceState, sentTracestate ?? '', `${span.kind} ${span.name} trace_state`);
      }
    });
  }

  it('spans of traces that were not sampled are not exported', async () => {
    const unsampled = cases.filter((c) => c.incoming !== undefined && (parseInt(c.flags, 16) & 0x01) === 0).map((c) => c.traceId);
    assert.deepEqual(receiver!.spans.filter((span) => unsampled.includes(span.traceId)), []);
    assert.equal(app!.stderr(), '');
  });
});
