import { context as contextApi, INVALID_SPANID, INVALID_TRACEID, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { RandomIdGenerator, TracerProvider, type IdGenerator, type TracerProviderOptions } from '@opentelemetry/sdk-trace';
import { leanStartSpan, RANDOM_TRACE_ID_FLAG, rememberSpanClass } from './lean-start-span.ts';

export { RANDOM_TRACE_ID_FLAG };

type StartSpan = Tracer['startSpan'];

/**
 * The SDK's Tracer.startSpan builds a span's trace flags from the sampling
 * decision alone (SAMPLED or NONE), so the random-trace-id flag of an incoming
 * `traceparent` is lost on the first span, and never set on the traces we
 * start. The spec (spec/20-http_request_header_format.md, "Random Trace ID
 * Flag") asks:
 * - continuing a trace: the flag of every outgoing traceparent with that
 *   trace id is the flag of the incoming one, set or unset;
 * - starting a trace: when at least the right-most 7 bytes of the trace id
 *   are random, the flag SHOULD be set. The SDK's RandomIdGenerator and our
 *   PooledRandomIdGenerator draw all 16 bytes, so it is set with either, and
 *   not with any other IdGenerator.
 *
 * This provider sets bit 0x02 of each span's context right after the SDK
 * built it, leaving the sampled bit (the sampler's decision) alone. Neither a
 * Sampler (its result has no flags) nor an IdGenerator (it does not see the
 * parent) nor a SpanProcessor (not called for non-recording spans, which
 * propagate too) can do it. The span context object is the SDK's own, fresh
 * for each span, so it is updated in place: span, exporter and propagators
 * all read the same object. Span processors' onStart sees the flags before
 * the fix; ours do not read them there. The spans of every request take the
 * lean copy of startSpan (lean-start-span.ts), which builds the flags whole.
 */
export class RandomTraceIdFlagTracerProvider extends TracerProvider {
  readonly #newTraceIdsAreRandom: boolean;
  readonly #patched = new WeakSet<Tracer>();

  constructor(options: TracerProviderOptions = {}) {
    super(options);
    this.#newTraceIdsAreRandom = drawsRandomTraceIds(options.idGenerator);
  }

  override getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const tracer = super.getTracer(name, version, options);
    if (!this.#patched.has(tracer)) {
      this.#patched.add(tracer);
      // An own property: the SDK's startActiveSpan calls this.startSpan, so it goes through here too.
      const sdkStartSpan = withRandomTraceIdFlag(tracer.startSpan.bind(tracer), this.#newTraceIdsAreRandom);
      // The lean copy of the SDK's startSpan sets the flag itself; what it does not handle goes to the SDK's, then the fix below.
      tracer.startSpan = leanStartSpan(tracer, sdkStartSpan, this.#newTraceIdsAreRandom) ?? sdkStartSpan;
    }
    return tracer;
  }
}

/** No generator means the SDK's RandomIdGenerator; ours says so with `traceIdsAreRandom`. */
function drawsRandomTraceIds(idGenerator: IdGenerator | undefined): boolean {
  return idGenerator === undefined || idGenerator instanceof RandomIdGenerator || (idGenerator as { traceIdsAreRandom?: unknown }).traceIdsAreRandom === true;
}

function withRandomTraceIdFlag(startSpan: StartSpan, newTraceIdsAreRandom: boolean): StartSpan {
  return function startSpanWithRandomTraceIdFlag(name: string, options?: SpanOptions, context: Context = contextApi.active()): Span {
    const span = startSpan(name, options, context);
    rememberSpanClass(span);
    try {
      return setRandomTraceIdFlag(span, randomTraceIdFlagFor(span, options, context, newTraceIdsAreRandom));
    } catch {
      // A span we cannot adjust is still the app's span.
      return span;
    }
  };
}

/**
 * The flag a new span's trace id carries: its parent's when it continues the
 * parent's trace, ours when it starts one. The SDK continues a parent's trace
 * only when the parent's context is valid (it draws a new trace id
 * otherwise), so the same trace id says both; no second validity check.
 */
function randomTraceIdFlagFor(span: Span, options: SpanOptions | undefined, context: Context, newTraceIdsAreRandom: boolean): number {
  const parent = options?.root === true ? undefined : trace.getSpanContext(context);
  if (parent !== undefined && parent.traceId === span.spanContext().traceId && parent.traceId !== INVALID_TRACEID) {
    return parent.traceFlags & RANDOM_TRACE_ID_FLAG;
  }
  return newTraceIdsAreRandom ? RANDOM_TRACE_ID_FLAG : 0;
}

function setRandomTraceIdFlag(span: Span, flag: number): Span {
  const spanContext = span.spanContext();
  // The invalid context of a suppressed span is a shared constant: never touched.
  // The SDK's other span contexts carry a valid parent's trace id or a generated one, and a generated span id.
  if (spanContext.traceId === INVALID_TRACEID || spanContext.spanId === INVALID_SPANID) return span;
  const traceFlags = (spanContext.traceFlags & ~RANDOM_TRACE_ID_FLAG) | flag;
  if (traceFlags === spanContext.traceFlags) return span;
  if (!Object.isFrozen(spanContext)) {
    (spanContext as { traceFlags: number }).traceFlags = traceFlags;
    return span;
  }
  // Should a later SDK freeze span contexts: a non-recording span can be rebuilt, a recording one keeps its flags.
  return span.isRecording() ? span : trace.wrapSpanContext({ ...spanContext, traceFlags });
}
