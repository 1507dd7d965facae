import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcCallError, GrpcUnaryClient, type CallCallback, type GrpcTarget } from '../../../src/export/grpc-client.ts';
import { grpcProxyVariable } from '../../../src/export/otlp-grpc-exporter.ts';
import { retryInfoDelayMs } from '../../../src/export/grpc-retry.ts';

/**
 * Our client against grpc-js's server, a gRPC implementation we did not
 * write (the e2e receiver is ours): bytes, gzip, metadata, deadlines, status
 * codes and messages, status details, reconnects.
 */
const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface Received {
  message: Buffer;
  metadata: grpc.Metadata;
}

type Behaviour = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void;

async function startServer(behave: () => Behaviour, received: Received[]): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const identity = (bytes: Buffer) => bytes;
  server.addService(
    { Export: { path: PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        received.push({ message: call.request, metadata: call.metadata });
        behave()(call, callback);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { server, port };
}

const ok: Behaviour = (_call, callback) => callback(null, Buffer.alloc(0));

function call(client: GrpcUnaryClient, message: Uint8Array, timeoutMs = 5_000): Promise<{ error?: GrpcCallError; answer?: Buffer }> {
  return new Promise((resolve) => {
    const done: CallCallback = (error, answer) => resolve({ error, answer });
    client.call(PATH, message, timeoutMs, done);
  });
}

function target(port: number, overrides: Partial<GrpcTarget> = {}): GrpcTarget {
  return { url: `http://127.0.0.1:${port}`, metadata: {}, compression: 'gzip', userAgent: 'test-agent', ...overrides };
}

describe('gRPC client (against grpc-js’s server)', () => {
  const received: Received[] = [];
  let behaviour: Behaviour = ok;
  let server: grpc.Server;
  let port: number;
  before(async () => {
    ({ server, port } = await startServer(() => behaviour, received));
  });
  after(() => server.forceShutdown());

  it('delivers the exact bytes (gzip-compressed: the e2e receiver checks the flag), with the metadata and our user agent; the answer comes back', async () => {
    behaviour = (_call, callback) => callback(null, Buffer.from('answer'));
    const client = new GrpcUnaryClient(target(port, { metadata: { 'x-api-key': 's3cret', 'x-tenant': 'acme' } }));
    const message = randomBytes(5000);
    const { error, answer } = await call(client, message);
    client.close();
    assert.equal(error, undefined);
    assert.deepEqual(answer, Buffer.from('answer'));
    const last = received.at(-1)!;
    assert.ok(last.message.equals(message));
    assert.deepEqual(last.metadata.get('x-api-key'), ['s3cret']);
    assert.deepEqual(last.metadata.get('x-tenant'), ['acme']);
    assert.match(String(last.metadata.get('user-agent')[0]), /test-agent/);
  });

  it('sends uncompressed with OTEL_EXPORTER_OTLP_COMPRESSION=none, and messages above the synchronous gzip limit intact', async () => {
    behaviour = ok;
    const plain = new GrpcUnaryClient(target(port, { compression: 'none' }));
    const small = randomBytes(100);
    assert.equal((await call(plain, small)).error, undefined);
    assert.deepEqual(received.at(-1)!.message, small);
    plain.close();
    const gzip = new GrpcUnaryClient(target(port));
    const large = Buffer.alloc(3 * 1024 * 1024, 'span bytes that compress well ');
    assert.equal((await call(gzip, large)).error, undefined);
    // Not deepEqual: a failing comparison of megabytes would spend minutes drawing the diff.
    assert.ok(received.at(-1)!.message.equals(large), `received ${received.at(-1)!.message.length} bytes, sent ${large.length}`);
    gzip.close();
  });

  it('a metadata key cannot replace the protocol’s own headers', async () => {
    behaviour = ok;
    const client = new GrpcUnaryClient(target(port, { metadata: { 'content-type': 'text/plain', 'grpc-encoding': 'identity', te: 'nope' } }));
    assert.equal((await call(client, Buffer.from('x'))).error, undefined);
    client.close();
    assert.deepEqual(received.at(-1)!.message, Buffer.from('x'));
  });

  it('a status from the server becomes a grpc-js-style error: code, percent-decoded message, RetryInfo details', async () => {
    behaviour = (_call, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('grpc-status-details-bin', retryInfoStatus(7));
      callback({ code: grpc.status.UNAVAILABLE, details: 'collector überlastet, 100% busy', metadata });
    };
    const client = new GrpcUnaryClient(target(port));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.ok(error instanceof GrpcCallError);
    assert.equal(error.code, 14);
    assert.equal(error.message, '14 UNAVAILABLE: collector überlastet, 100% busy');
    assert.equal(retryInfoDelayMs(error), 7000);
  });

  it('a server slower than the timeout: 4 DEADLINE_EXCEEDED on time, and the server sees the call cancelled', async () => {
    let cancelled = false;
    behaviour = (call, callback) => {
      call.on('cancelled', () => (cancelled = true));
      setTimeout(() => callback(null, Buffer.alloc(0)), 3_000).unref();
    };
    const client = new GrpcUnaryClient(target(port));
    const startedAt = Date.now();
    const { error } = await call(client, Buffer.from('x'), 300);
    const tookMs = Date.now() - startedAt;
    client.close();
    assert.equal(error?.code, 4);
    assert.match(error!.message, /^4 DEADLINE_EXCEEDED: Deadline exceeded after 0\.\d+s$/);
    assert.ok(tookMs >= 290 && tookMs < 1_500, `took ${tookMs} ms`);
    await waitFor(() => cancelled);
  });

  it('the next call after a server restart (GOAWAY, closed connection) reconnects and succeeds', async () => {
    const restartedReceived: Received[] = [];
    const first = await startServer(() => ok, restartedReceived);
    const client = new GrpcUnaryClient(target(first.port));
    assert.equal((await call(client, Buffer.from('one'))).error, undefined);
    await new Promise<void>((resolve) => first.server.tryShutdown(() => resolve()));
    const down = await call(client, Buffer.from('lost'));
    assert.equal(down.error?.code, 14, String(down.error));
    const second = new grpc.Server();
    second.addService({ Export: { path: PATH, requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } }, {
      Export: (c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        restartedReceived.push({ message: c.request, metadata: c.metadata });
        cb(null, Buffer.alloc(0));
      },
    });
    await new Promise<number>((resolve, reject) => second.bindAsync(`127.0.0.1:${first.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    const again = await call(client, Buffer.from('two'));
    client.close();
    second.forceShutdown();
    assert.equal(again.error, undefined, String(again.error));
    assert.deepEqual(
      restartedReceived.map((one) => one.message.toString()),
      ['one', 'two'],
    );
  });

  it('nothing listening: 14 UNAVAILABLE naming the connection error, never a throw', async () => {
    const deadPort = await freePort();
    const client = new GrpcUnaryClient(target(deadPort));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error?.code, 14);
    assert.match(error!.message, /^14 UNAVAILABLE: No connection established\. Last error: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('metadata HTTP/2 refuses fails the call with the cause, without printing the value', async () => {
    const client = new GrpcUnaryClient(target(port, { metadata: { 'http2-settings': 'Bearer t0k3n' } }));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error?.message, '13 INTERNAL: request not sent: ERR_HTTP2_INVALID_CONNECTION_HEADERS');
  });

  it('a closed client fails calls at once', async () => {
    const client = new GrpcUnaryClient(target(port));
    client.close();
    assert.equal((await call(client, Buffer.from('x'))).error?.code, 14);
  });
});

describe('gRPC client against a misbehaving HTTP/2 server', () => {
  type Handler = (stream: http2.ServerHttp2Stream, session: http2.Http2Session) => void;
  let handler: Handler;
  let server: http2.Http2Server;
  let port: number;
  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream) => {
      stream.on('error', () => {});
      handler(stream, stream.session!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  it('a stream reset before any answer keeps its code (ENHANCE_YOUR_CALM → 8 RESOURCE_EXHAUSTED, not "no connection")', async () => {
    handler = (stream) => stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const client = new GrpcUnaryClient(target(port));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error?.message, '8 RESOURCE_EXHAUSTED: Received RST_STREAM with code 11');
  });

  it('the connection dropped after the answer’s headers: 14 UNAVAILABLE "Connection dropped" (retryable)', async () => {
    handler = (stream, session) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      setTimeout(() => session.destroy(), 20);
    };
    const client = new GrpcUnaryClient(target(port));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error?.code, 14, String(error));
    assert.match(error!.message, /^14 UNAVAILABLE: Connection dropped/);
  });

  it('an empty grpc-status is not success', async () => {
    handler = (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '' }, { endStream: true });
    const client = new GrpcUnaryClient(target(port));
    const { error } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error?.code, 2, String(error));
  });

  it('an answer compressed with gzip is read', async () => {
    handler = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const gzipped = zlib.gzipSync(Buffer.from('partial success'));
      const framed = Buffer.concat([Buffer.from([1, 0, 0, 0, gzipped.length]), gzipped]);
      stream.end(framed);
    };
    const client = new GrpcUnaryClient(target(port));
    const { error, answer } = await call(client, Buffer.from('x'));
    client.close();
    assert.equal(error, undefined);
    assert.equal(answer?.toString(), 'partial success');
  });

  it('several large uncompressed batches at once all arrive (no 10 MB session-memory refusal)', async () => {
    const sizes: number[] = [];
    handler = (stream) => {
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      stream.on('end', () => {
        sizes.push(size);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
      });
    };
    const client = new GrpcUnaryClient(target(port, { compression: 'none' }));
    const results = await Promise.all(Array.from({ length: 6 }, () => call(client, Buffer.alloc(4 * 1024 * 1024, 7), 20_000)));
    client.close();
    assert.deepEqual(
      results.map((result) => result.error?.message),
      [undefined, undefined, undefined, undefined, undefined, undefined],
    );
    assert.deepEqual(sizes, Array(6).fill(4 * 1024 * 1024 + 5));
  });

  it('close() while a large message is being gzipped: the call fails and no connection is opened', async () => {
    let streams = 0;
    handler = (stream) => {
      streams++;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
    };
    const client = new GrpcUnaryClient(target(port));
    const pending = call(client, randomBytes(2 * 1024 * 1024));
    client.close();
    assert.equal((await pending).error?.code, 14);
    assert.equal(streams, 0);
  });

  it('an unreadable client key or CA file is left out, as upstream does, instead of failing every export', async () => {
    const client = new GrpcUnaryClient(target(port, { url: `https://127.0.0.1:${port}`, certificateFile: '/nonexistent/ca.pem', clientKeyFile: '/nonexistent/key.pem', clientCertificateFile: '/nonexistent/cert.pem' }));
    const { error } = await call(client, Buffer.from('x'), 2_000);
    client.close();
    // The plaintext server cannot speak TLS: the call fails at the handshake, not at reading the files.
    assert.equal(error?.code, 14, String(error));
    assert.doesNotMatch(error!.message, /ENOENT|request not sent/);
  });
});

describe('proxy variables (grpc-js honours them; we then use its transport)', () => {
  it('names the variable grpc-js would use, in its order, lower-case only and not when empty', () => {
    assert.equal(grpcProxyVariable({}), undefined);
    assert.equal(grpcProxyVariable({ http_proxy: '' }), undefined);
    assert.equal(grpcProxyVariable({ HTTP_PROXY: 'http://proxy:3128' }), undefined);
    assert.equal(grpcProxyVariable({ http_proxy: 'http://proxy:3128' }), 'http_proxy');
    assert.equal(grpcProxyVariable({ http_proxy: 'http://a:1', https_proxy: 'http://b:1', grpc_proxy: 'http://c:1' }), 'grpc_proxy');
  });
});

/** google.rpc.Status { details: [Any { type_url RetryInfo, value RetryInfo { retry_delay { seconds } } }] }. */
function retryInfoStatus(seconds: number): Buffer {
  const field = (number: number, payload: Buffer) => Buffer.concat([Buffer.from([number * 8 + 2, payload.length]), payload]);
  const duration = Buffer.from([0x08, seconds]);
  const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, field(1, duration))]);
  return field(3, any);
}

async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
