import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { SpanContext } from '@opentelemetry/api';
import { RESPONSE_HEADER_FORMATS, writeResponseTraceHeaders, type ResponseHeaderFormat } from '../../../src/propagators/response-headers.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const SAMPLED: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
const NOT_SAMPLED: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 };
const OUR_HEADERS = ['traceresponse', 'server-timing', 'x-kontur-trace-id', 'access-control-expose-headers'];

/** What the app does with the response, around our call, before it ends it. */
type Handler = (response: ServerResponse) => void;

let handler: Handler = () => {};
let server: http.Server;
let port: number;

before(async () => {
  server = http.createServer((_request, response) => {
    try {
      handler(response);
    } finally {
      response.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server?.close();
});

/** The response headers a real client receives. */
async function respond(run: Handler): Promise<IncomingHttpHeaders> {
  handler = run;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers));
      })
      .on('error', reject);
  });
}

function ours(headers: IncomingHttpHeaders): Record<string, unknown> {
  return Object.fromEntries(OUR_HEADERS.filter((name) => headers[name] !== undefined).map((name) => [name, headers[name]]));
}

describe('response headers per format', () => {
  const cases: {
    name: string;
    formats: readonly ResponseHeaderFormat[];
    spanContext?: SpanContext;
    before?: Handler;
    expected: Record<string, string>;
  }[] = [
    { name: 'traceresponse', formats: ['traceresponse'], expected: { traceresponse: `00-${TRACE_ID}-${SPAN_ID}-01` } },
    {
      name: 'traceresponse for a span that is not sampled',
      formats: ['traceresponse'],
      spanContext: NOT_SAMPLED,
      expected: { traceresponse: `00-${TRACE_ID}-${SPAN_ID}-00` },
    },
    {
      name: 'traceresponse keeps the random flag',
      formats: ['traceresponse'],
      spanContext: { ...SAMPLED, traceFlags: 3 },
      expected: { traceresponse: `00-${TRACE_ID}-${SPAN_ID}-03` },
    },
    {
      name: 'traceresponse keeps the random flag of a span that is not sampled',
      formats: ['traceresponse'],
      spanContext: { ...SAMPLED, traceFlags: 2 },
      expected: { traceresponse: `00-${TRACE_ID}-${SPAN_ID}-02` },
    },
    { name: 'server-timing', formats: ['server-timing'], expected: { 'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-01"` } },
    {
      name: 'server-timing keeps the random flag',
      formats: ['server-timing'],
      spanContext: { ...SAMPLED, traceFlags: 3 },
      expected: { 'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-03"` },
    },
    {
      name: 'server-timing keeps the random flag of a span that is not sampled',
      formats: ['server-timing'],
      spanContext: { ...SAMPLED, traceFlags: 2 },
      expected: { 'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-02"` },
    },
    {
      name: 'undefined flags are not sent in either',
      formats: ['traceresponse', 'server-timing'],
      spanContext: { ...SAMPLED, traceFlags: 0xff },
      expected: { traceresponse: `00-${TRACE_ID}-${SPAN_ID}-03`, 'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-03"` },
    },
    {
      name: 'server-timing with the flags of the span',
      formats: ['server-timing'],
      spanContext: NOT_SAMPLED,
      expected: { 'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-00"` },
    },
    {
      name: "server-timing after the app's own value, kept as written",
      formats: ['server-timing'],
      before: (response) => response.setHeader('Server-Timing', 'cache;desc="hit,warm";dur=2.3'),
      expected: { 'server-timing': `cache;desc="hit,warm";dur=2.3, traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-01"` },
    },
    {
      name: "server-timing after the app's several values",
      formats: ['server-timing'],
      before: (response) => response.setHeader('Server-Timing', ['db;dur=53', 'app;dur=47.2']),
      expected: { 'server-timing': `db;dur=53, app;dur=47.2, traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-01"` },
    },
    { name: 'kontur', formats: ['kontur'], expected: { 'x-kontur-trace-id': TRACE_ID } },
    {
      name: 'all three',
      formats: RESPONSE_HEADER_FORMATS,
      expected: {
        traceresponse: `00-${TRACE_ID}-${SPAN_ID}-01`,
        'server-timing': `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-01"`,
        'x-kontur-trace-id': TRACE_ID,
      },
    },
    { name: 'no format', formats: [], expected: {} },
    { name: 'an unknown format', formats: ['b3' as ResponseHeaderFormat], expected: {} },
    { name: 'an all-zero trace id', formats: RESPONSE_HEADER_FORMATS, spanContext: { ...SAMPLED, traceId: '0'.repeat(32) }, expected: {} },
    { name: 'an uppercase trace id', formats: RESPONSE_HEADER_FORMATS, spanContext: { ...SAMPLED, traceId: TRACE_ID.toUpperCase() }, expected: {} },
    {
      name: 'a span id trying to smuggle a header',
      formats: RESPONSE_HEADER_FORMATS,
      spanContext: { ...SAMPLED, spanId: 'b7ad6b71\r\nX-Evil: 1' },
      expected: {},
    },
    { name: 'no span context at all', formats: RESPONSE_HEADER_FORMATS, spanContext: null as unknown as SpanContext, expected: {} },
  ];
  for (const { name, formats, spanContext = SAMPLED, before: setUp, expected } of cases) {
    test(name, async () => {
      const headers = await respond((response) => {
        setUp?.(response);
        writeResponseTraceHeaders(response, spanContext, formats);
      });
      assert.deepEqual(ours(headers), expected);
    });
  }
});

describe('CORS', () => {
  const cases: { name: string; before: Handler; formats: readonly ResponseHeaderFormat[]; expose: string | undefined }[] = [
    { name: 'without Access-Control-Allow-Origin nothing is exposed', before: () => {}, formats: RESPONSE_HEADER_FORMATS, expose: undefined },
    {
      name: 'with Access-Control-Allow-Origin the written headers are exposed',
      before: (response) => response.setHeader('Access-Control-Allow-Origin', '*'),
      formats: RESPONSE_HEADER_FORMATS,
      expose: 'traceresponse, Server-Timing, X-Kontur-Trace-Id',
    },
    {
      name: "the app's exposed headers are kept and not repeated, whatever their case",
      before: (response) => {
        response.setHeader('Access-Control-Allow-Origin', 'https://app.example');
        response.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, server-timing');
      },
      formats: RESPONSE_HEADER_FORMATS,
      expose: 'X-Request-Id, server-timing, traceresponse, X-Kontur-Trace-Id',
    },
    {
      name: 'only the headers written are exposed',
      before: (response) => response.setHeader('Access-Control-Allow-Origin', '*'),
      formats: ['kontur'],
      expose: 'X-Kontur-Trace-Id',
    },
    {
      name: 'nothing is exposed when nothing is written',
      before: (response) => response.setHeader('Access-Control-Allow-Origin', '*'),
      formats: [],
      expose: undefined,
    },
  ];
  for (const { name, before: setUp, formats, expose } of cases) {
    test(name, async () => {
      const headers = await respond((response) => {
        setUp(response);
        writeResponseTraceHeaders(response, SAMPLED, formats);
      });
      assert.equal(headers['access-control-expose-headers'], expose);
    });
  }
});

describe('edge cases', () => {
  test('a second call repeats neither Server-Timing nor exposed headers', async () => {
    const headers = await respond((response) => {
      response.setHeader('Access-Control-Allow-Origin', '*');
      writeResponseTraceHeaders(response, SAMPLED, RESPONSE_HEADER_FORMATS);
      writeResponseTraceHeaders(response, SAMPLED, RESPONSE_HEADER_FORMATS);
    });
    assert.equal(headers['server-timing'], `traceparent;desc="00-${TRACE_ID}-${SPAN_ID}-01"`);
    assert.equal(headers['access-control-expose-headers'], 'traceresponse, Server-Timing, X-Kontur-Trace-Id');
  });

  test('once headers are sent nothing is written and nothing throws', async () => {
    let threw: unknown;
    const headers = await respond((response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      try {
        writeResponseTraceHeaders(response, SAMPLED, RESPONSE_HEADER_FORMATS);
      } catch (error) {
        threw = error;
      }
    });
    assert.equal(threw, undefined);
    assert.deepEqual(ours(headers), {});
    assert.equal(headers['content-type'], 'text/plain');
  });

  test('something that is not a response does not make it throw', () => {
    assert.doesNotThrow(() => writeResponseTraceHeaders({} as ServerResponse, SAMPLED, RESPONSE_HEADER_FORMATS));
    assert.doesNotThrow(() => writeResponseTraceHeaders(null as unknown as ServerResponse, SAMPLED, RESPONSE_HEADER_FORMATS));
  });

  test('the formats are the ACME_OTEL_RESPONSE_HEADERS values', () => {
    assert.deepEqual(RESPONSE_HEADER_FORMATS, ['traceresponse', 'server-timing', 'kontur']);
  });
});
