import { context as contextApi, createNoopMeter, SamplingDecision, SpanKind, trace, TraceFlags, type Attributes, type Context, type Span, type SpanContext, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { cleanAttributes, isTracingSuppressed } from '@opentelemetry/core';
import type { IdGenerator, Sampler, SpanProcessor } from '@opentelemetry/sdk-trace';

/** W3C Trace Context Level 2, "Random Trace ID Flag": the second bit of trace-flags. */
export const RANDOM_TRACE_ID_FLAG = 0x02;

const NO_ATTRIBUTE_LIMITS = { attributeCountLimit: Infinity, attributeValueLengthLimit: Infinity };

interface SpanLimits {
  attributeCountLimit: number;
  attributeValueLengthLimit: number;
}

/** The members of the SDK's Tracer (sdk-trace 3.1) its startSpan reads. */
interface SdkTracer {
  readonly instrumentationScope: unknown;
  readonly _sampler: Sampler;
  readonly _spanLimits: SpanLimits;
  readonly _resource: unknown;
  readonly _idGenerator: IdGenerator;
  readonly _spanProcessor: SpanProcessor;
  readonly _tracerMetrics: { startSpan(parent: SpanContext | undefined, decision: SamplingDecision): () => void; startedSpans?: unknown };
}

type SpanClass = new (options: Record<string, unknown>) => Span;

/** The SDK's SpanImpl (not exported by the package), taken from the first span the SDK made itself. */
let spanClass: SpanClass | undefined;

export function rememberSpanClass(span: Span): void {
  if (spanClass !== undefined || !span.isRecording()) return;
  const constructor = (span as { constructor?: unknown }).constructor;
  if (typeof constructor === 'function' && constructor.name === 'SpanImpl') spanClass = constructor as SpanClass;
}

/**
 * The SDK's Tracer.startSpan (sdk-trace 3.1.1), for the spans every request
 * makes, with the random-trace-id flag set as the span context is built
 * (see random-trace-id-flag.ts). The same span, for less:
 * - the tracer's span metrics are skipped when its meter is the no-op one
 *   (our provider is given no MeterProvider): two attribute objects and a
 *   closure per span that recorded nothing;
 * - the second sanitizing pass, which applies the span limits to what the
 *   first pass and the sampler produced, is skipped when it cannot change
 *   anything: no sampler attributes, no value length limit, no more
 *   attributes than the count limit;
 * - no empty links array mapped into another.
 * Anything else (links, `root`, suppressed tracing, a tracer without the
 * members we know) goes to the SDK's own startSpan. Returns undefined when
 * `tracer` is not the SDK's Tracer we know.
 */
export function leanStartSpan(tracer: Tracer, sdkStartSpan: Tracer['startSpan'], newTraceIdsAreRandom: boolean): Tracer['startSpan'] | undefined {
  const sdk = tracer as unknown as SdkTracer;
  if (!isSdkTracer(sdk)) return undefined;
  // The API's no-op meter hands out one shared counter: the tracer's is that one when its meter records nothing.
  const metricsAreNoop = sdk._tracerMetrics.startedSpans === createNoopMeter().createCounter('otel.sdk.span.started');
  return function startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    const SpanImpl = spanClass;
    if (SpanImpl === undefined || options.root === true || (options.links !== undefined && options.links.length > 0) || isTracingSuppressed(context)) {
      return sdkStartSpan(name, options, context);
    }
    const parentSpanContext = trace.getSpan(context)?.spanContext();
    const spanId = sdk._idGenerator.generateSpanId();
    let validParentSpanContext: SpanContext | undefined;
    let traceId: string;
    let traceState: SpanContext['traceState'];
    let randomFlag: number;
    if (parentSpanContext === undefined || !trace.isSpanContextValid(parentSpanContext)) {
      traceId = sdk._idGenerator.generateTraceId();
      randomFlag = newTraceIdsAreRandom ? RANDOM_TRACE_ID_FLAG : 0;
    } else {
      traceId = parentSpanContext.traceId;
      traceState = parentSpanContext.traceState;
      validParentSpanContext = parentSpanContext;
      randomFlag = parentSpanContext.traceFlags & RANDOM_TRACE_ID_FLAG;
    }
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links: never[] = [];
    const first = cleanAttributes(options.attributes, NO_ATTRIBUTE_LIMITS);
    const attributes: Attributes = first.attributes ?? {};
    const sampling = sdk._sampler.shouldSample(context, traceId, name, kind, attributes, links);
    const recordEndMetrics = metricsAreNoop ? undefined : sdk._tracerMetrics.startSpan(parentSpanContext, sampling.decision);
    traceState = sampling.traceState ?? traceState;
    const sampledFlag = sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext: SpanContext = { traceId, spanId, traceFlags: sampledFlag | randomFlag, traceState };
    if (sampling.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    let finalAttributes: Attributes | undefined = attributes;
    let droppedByLimits = 0;
    if (!withinLimits(attributes, sampling.attributes, sdk._spanLimits)) {
      const second = cleanAttributes(Object.assign(attributes, sampling.attributes), sdk._spanLimits);
      finalAttributes = second.attributes;
      droppedByLimits = second.droppedAttributesCount ?? 0;
    }
    return new SpanImpl({
      resource: sdk._resource,
      scope: sdk.instrumentationScope,
      context,
      spanContext,
      name,
      kind,
      links,
      parentSpanContext: validParentSpanContext,
      attributes: finalAttributes,
      droppedAttributesCount: (first.droppedAttributesCount ?? 0) + droppedByLimits,
      startTime: options.startTime,
      spanProcessor: sdk._spanProcessor,
      spanLimits: sdk._spanLimits,
      recordEndMetrics,
    });
  };
}

/** Whether the SDK's second pass would hand back the same attributes: nothing to add, truncate or drop. */
function withinLimits(attributes: Attributes, fromSampler: Attributes | undefined, limits: SpanLimits): boolean {
  if (fromSampler !== undefined) {
    for (const key in fromSampler) if (Object.hasOwn(fromSampler, key)) return false;
  }
  if (limits.attributeValueLengthLimit !== Infinity) return false;
  let count = 0;
  for (const key in attributes) if (Object.hasOwn(attributes, key)) count++;
  return count <= limits.attributeCountLimit;
}

function isSdkTracer(tracer: SdkTracer): boolean {
  return (
    typeof tracer._sampler?.shouldSample === 'function' &&
    typeof tracer._idGenerator?.generateSpanId === 'function' &&
    typeof tracer._idGenerator?.generateTraceId === 'function' &&
    typeof tracer._spanProcessor?.onStart === 'function' &&
    typeof tracer._tracerMetrics?.startSpan === 'function' &&
    typeof tracer._spanLimits === 'object' &&
    tracer._spanLimits !== null
  );
}
