/**
 * `node --expose-gc bench/span-encoding.ts [--spans N] [--rounds R]`: the export
 * path's CPU and memory, ours (encode each span when it ends, assemble the
 * request at export) against upstream's (queue the ReadableSpan, serialize
 * the batch with ProtobufTraceSerializer at export), both gzipped as the
 * default export is. Spans are made by the real SDK (through our tracer
 * provider) with the attributes an HTTP server span carries, a client child
 * and an internal child per request.
 *
 * Prints, per variant (medians over rounds, spread beside):
 * - CPU µs per span for the whole path: span end + queue + encode/serialize +
 *   gzip, in a steady state where spans queue up to one batch and are then
 *   exported, each batch held until 4 more were exported (as BatchingProcessor
 *   holds the batches in flight until the collector answers);
 * - of that, GC time (PerformanceObserver 'gc') per span;
 * - bytes retained per queued span (heap + array buffers, after a full GC,
 *   with 2048 spans waiting: OTEL_BSP_MAX_QUEUE_SIZE's default);
 * - our encoder alone: CPU µs per span to encode spans made beforehand
 *   (no subtraction, so the least noisy figure for a change to the encoder).
 */
import { gzipSync } from 'node:zlib';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { SpanEncoder, type EncodedSpan } from '../src/export/span-encoder.ts';
import { assembleTraceRequest } from '../src/export/trace-request.ts';
import { RandomTraceIdFlagTracerProvider } from '../src/random-trace-id-flag.ts';

const { values: options } = parseArgs({ options: { spans: { type: 'string', default: '150000' }, rounds: { type: 'string', default: '5' } } });
const SPANS = Number(options.spans);
const ROUNDS = Number(options.rounds);
const BATCH = 512;
const QUEUE = 2048;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

type Sink = (span: ReadableSpan) => void;
let sink: Sink = () => {};
const processor: SpanProcessor = { onStart() {}, onEnd: (span) => sink(span), forceFlush: async () => {}, shutdown: async () => {} };
const resource = resourceFromAttributes({
  'service.name': 'bench',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '3.1.1',
  'host.name': 'bench-host',
  'process.pid': process.pid,
  'process.runtime.name': 'nodejs',
  'process.runtime.version': process.versions.node,
});
const provider = new RandomTraceIdFlagTracerProvider({ resource, spanProcessors: [processor] });
const http = provider.getTracer('@opentelemetry/instrumentation-http', '0.301.0');
const app = provider.getTracer('@acme/app', '1.0.0');

/** One request's spans: a SERVER span with HTTP attributes, a CLIENT child and an INTERNAL child. */
function request(i: number): void {
  const server = http.startSpan('GET /users/:id', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': `/users/${i % 1000}`,
      'url.scheme': 'http',
      'server.address': 'localhost',
      'server.port': 8080,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 50000 + (i % 10000),
      'network.protocol.version': '1.1',
      'user_agent.original': 'wrk/4.2.0',
      'client.address': '127.0.0.1',
      'http.route': '/users/:id',
    },
  });
  const parent = trace.setSpan(context.active(), server);
  const client = app.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': 'backend', 'server.port': 9000, 'url.full': `http://backend:9000/profile/${i % 1000}` } }, parent);
  client.setAttribute('http.response.status_code', 200);
  client.end();
  const internal = app.startSpan('render', { attributes: { 'template': 'user', 'cache.hit': i % 3 === 0 } }, parent);
  internal.end();
  server.setAttribute('http.response.status_code', 200);
  server.setStatus({ code: SpanStatusCode.UNSET });
  server.end();
}

interface Variant {
  name: string;
  /** Installs the span sink; returns export(): sends what is queued. */
  install(): { queued(): number; exportQueued(): number };
}

const none: Variant = {
  name: 'no export: spans dropped at end (the cost of making them, subtracted below)',
  install() {
    sink = () => {};
    return { queued: () => QUEUE, exportQueued: () => 0 };
  },
};

/**
 * Like BatchingProcessor, a batch stays referenced until its export is
 * answered (for the exit flush): here the last IN_FLIGHT batches, as with a
 * collector a few batches behind. This is how spans live long enough to be
 * promoted out of V8's young generation.
 */
const IN_FLIGHT = 4;

const upstream: Variant = {
  name: 'upstream: queue ReadableSpan, ProtobufTraceSerializer at export',
  install() {
    let queue: ReadableSpan[] = [];
    const inFlight: ReadableSpan[][] = [];
    sink = (span) => void queue.push(span);
    return {
      queued: () => queue.length,
      exportQueued: () => {
        const bytes = ProtobufTraceSerializer.serializeRequest(queue)!;
        inFlight.push(queue);
        if (inFlight.length > IN_FLIGHT) inFlight.shift();
        queue = [];
        return gzipped(bytes);
      },
    };
  },
};

const ours: Variant = {
  name: 'ours: encode at end, assemble at export',
  install() {
    const encoder = new SpanEncoder();
    let queue: EncodedSpan[] = [];
    const inFlight: EncodedSpan[][] = [];
    sink = (span) => void queue.push(encoder.encode(span));
    return {
      queued: () => queue.length,
      exportQueued: () => {
        const bytes = assembleTraceRequest(queue);
        inFlight.push(queue);
        if (inFlight.length > IN_FLIGHT) encoder.release(inFlight.shift()!);
        queue = [];
        return gzipped(bytes);
      },
    };
  },
};

/** CPU µs spent in gzip, apart. */
let gzipMicros = 0;
function gzipped(bytes: Uint8Array): number {
  const before = cpuMicros();
  const length = gzipSync(bytes).length;
  gzipMicros += cpuMicros() - before;
  return length;
}

let gcMs = 0;
/** Mark-compact (old generation) collections: what promoted spans cost. */
let majorGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
  }
}).observe({ entryTypes: ['gc'] });

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Steady state: requests end spans; every full batch is exported. CPU µs and GC µs per span. */
async function steadyState(variant: Variant): Promise<{ cpu: number; gc: number; gzip: number; majors: number }> {
  const path = variant.install();
  gc!();
  // GC entries arrive asynchronously: let the forced ones (here and in retained()) be counted before the start.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const gcBefore = gcMs;
  const majorsBefore = majorGcs;
  const gzipBefore = gzipMicros;
  const cpuBefore = cpuMicros();
  let spans = 0;
  for (let i = 0; spans < SPANS; i++) {
    request(i);
    spans += 3;
    if (path.queued() >= BATCH && variant !== none) path.exportQueued();
  }
  path.exportQueued();
  const cpu = cpuMicros() - cpuBefore;
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { cpu: cpu / spans, gc: ((gcMs - gcBefore) * 1000) / spans, gzip: (gzipMicros - gzipBefore) / spans, majors: majorGcs - majorsBefore };
}

/** Bytes held per queued span, 2048 waiting: heap and array buffers, after full GCs. */
async function retained(variant: Variant): Promise<number> {
  if (variant === none) return 0;
  const path = variant.install();
  gc!();
  gc!();
  const before = process.memoryUsage();
  for (let i = 0; path.queued() < QUEUE; i++) request(i);
  gc!();
  gc!();
  const after = process.memoryUsage();
  const perSpan = (after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)) / path.queued();
  path.exportQueued();
  return perSpan;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[], digits = 2) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

const results = new Map<Variant, { cpu: number[]; gc: number[]; gzip: number[]; majors: number[]; bytes: number[] }>([
  [none, { cpu: [], gc: [], gzip: [], majors: [], bytes: [] }],
  [upstream, { cpu: [], gc: [], gzip: [], majors: [], bytes: [] }],
  [ours, { cpu: [], gc: [], gzip: [], majors: [], bytes: [] }],
]);
// Warm up both (JIT), then alternate.
for (const variant of results.keys()) await steadyState(variant);
for (let round = 0; round < ROUNDS; round++) {
  for (const [variant, figures] of round % 2 === 0 ? [...results] : [...results].reverse()) {
    const { cpu, gc: gcPerSpan, gzip, majors } = await steadyState(variant);
    figures.majors.push(majors);
    figures.cpu.push(cpu);
    figures.gc.push(gcPerSpan);
    figures.gzip.push(gzip);
    figures.bytes.push(await retained(variant));
  }
}
console.log(`${SPANS} spans a round (3 per request: SERVER with 11 HTTP attributes, CLIENT, INTERNAL), batches of ${BATCH} (${IN_FLIGHT} held in flight), gzip; ${ROUNDS} rounds, medians (min–max)`);
const base = results.get(none)!;
for (const [variant, figures] of results) {
  console.log(`${variant.name}`);
  console.log(`  CPU per span, span made and ended included: ${median(figures.cpu).toFixed(2)} µs (${spread(figures.cpu)}), of which GC ${median(figures.gc).toFixed(2)} µs (${spread(figures.gc)}); mark-compact GCs a round: ${median(figures.majors)} (${spread(figures.majors, 0)})`);
  if (variant === none) continue;
  // Paired by round: the export path's own cost, span making subtracted.
  const cpu = figures.cpu.map((value, i) => value - base.cpu[i]!);
  const gcTime = figures.gc.map((value, i) => value - base.gc[i]!);
  const withoutGzip = cpu.map((value, i) => value - figures.gzip[i]!);
  console.log(`  export path (queue + encode/serialize + gzip), per span: ${median(cpu).toFixed(2)} µs (${spread(cpu)}), of which GC ${median(gcTime).toFixed(2)} µs (${spread(gcTime)}), gzip ${median(figures.gzip).toFixed(2)} µs (${spread(figures.gzip)})`);
  console.log(`  export path without gzip: ${median(withoutGzip).toFixed(2)} µs (${spread(withoutGzip)})`);
  console.log(`  retained per queued span: ${median(figures.bytes).toFixed(0)} bytes (${spread(figures.bytes, 0)})`);
}

/** The encoder alone, on spans made beforehand (a few hundred requests, so they stay in the CPU caches as a span just ended does). */
function encodeOnly(): number {
  const made: ReadableSpan[] = [];
  sink = (span) => void made.push(span);
  for (let i = 0; i < 300; i++) request(i);
  const encoder = new SpanEncoder();
  let batch: EncodedSpan[] = [];
  const before = cpuMicros();
  for (let i = 0; i < SPANS; i++) {
    batch.push(encoder.encode(made[i % made.length]!));
    if (batch.length === BATCH) {
      encoder.release(batch);
      batch = [];
    }
  }
  return (cpuMicros() - before) / SPANS;
}
encodeOnly();
const encodeFigures = Array.from({ length: ROUNDS }, encodeOnly);
console.log(`our encoder alone (encode + release, spans made beforehand): ${median(encodeFigures).toFixed(3)} µs per span (${spread(encodeFigures, 3)})`);
