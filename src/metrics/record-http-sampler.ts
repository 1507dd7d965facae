import { SamplingDecision, SpanKind, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';

/**
 * With metrics on, HTTP SERVER and CLIENT spans that the configured sampler
 * drops are still recorded (RECORD, not sampled): the HTTP duration metrics
 * are derived from ended spans, and must count every request whatever the
 * sampling. Such spans are never exported (the processors export sampled
 * spans only), carry the unsampled flag downstream as before, and their
 * children stay unrecorded (parent-based samplers drop the children of an
 * unsampled parent).
 */
export class RecordHttpSpansSampler implements Sampler {
  private readonly inner: Sampler;

  constructor(inner: Sampler) {
    this.inner = inner;
  }

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const result = this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD) return result;
    if ((spanKind !== SpanKind.SERVER && spanKind !== SpanKind.CLIENT) || attributes['http.request.method'] === undefined) return result;
    return { ...result, decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `RecordHttpSpansSampler{${this.inner.toString()}}`;
  }
}
