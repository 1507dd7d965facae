import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { printLine } from '../logging.ts';
import { BatchingProcessor } from './batching-span-processor.ts';
import { SpanEncoder, type EncodedSpan } from './span-encoder.ts';

/**
 * The batching policy of BatchingProcessor (queue and batch sizes in spans,
 * exports in flight, loss accounting, hand-over at exit) over spans encoded
 * the moment they end: the queue holds each span's OTLP bytes, never the
 * span, so nothing of a request outlives it (see span-encoder.ts).
 */
export class EncodingSpanProcessor extends BatchingProcessor<EncodedSpan> implements SpanProcessor {
  private readonly encoder = new SpanEncoder();
  private readonly reportedFailures = new Set<string>();

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    // A span that would not fit is not encoded at all (it is counted as dropped).
    if (!this.admits()) return;
    let encoded: EncodedSpan;
    try {
      encoded = this.encoder.encode(span);
    } catch (error) {
      // Never the app's problem: the span is lost, said once per kind of failure.
      this.reportEncodingFailure(error as Error);
      return;
    }
    this.pushAdmitted(encoded);
  }

  /** Their bytes are in the request sent (or given up on): the slabs they sit in may be reused. */
  protected override settled(spans: EncodedSpan[]): void {
    this.encoder.release(spans);
  }

  private reportEncodingFailure(error: Error): void {
    const message = String(error?.message ?? error);
    if (this.reportedFailures.has(message) || this.reportedFailures.size >= 10) return;
    this.reportedFailures.add(message);
    printLine(`a span could not be encoded for export and is dropped (${message})`);
  }
}
