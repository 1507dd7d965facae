import {
  diag,
  isSpanContextValid,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

export interface PropagatorEntry {
  /** Shown in the diag line when this propagator throws. */
  readonly name: string;
  readonly propagator: TextMapPropagator;
  /** True for formats that carry a span context; false for baggage and the like. */
  readonly carriesTraceContext: boolean;
}

const LOWERCASE_TRACE_ID = /^[0-9a-f]{32}$/;
const LOWERCASE_SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * Combines propagators for OTEL_PROPAGATORS. Inject runs every one of them.
 * Extract differs from upstream's CompositePropagator, where the last format
 * wins: the trace-context formats are tried in list order and the first that
 * yields a valid span context is kept, so `tracecontext,kontur` follows
 * `traceparent` when a request has both and `X-Kontur-Trace-Id` only when it
 * is alone. Later trace-context formats are then not run at all (nor is
 * ottrace's `ot-baggage-*` read). Baggage and other non-trace propagators
 * always run. An exception in any propagator is contained: the context or
 * carrier stays as it was before that propagator.
 */
export class FirstMatchPropagator implements TextMapPropagator {
  private readonly entries: readonly PropagatorEntry[];
  private readonly fieldNames: readonly string[];

  constructor(entries: readonly PropagatorEntry[]) {
    this.entries = [...entries];
    const fields = new Set<string>();
    for (const entry of this.entries) {
      for (const field of safeFields(entry)) fields.add(field);
    }
    this.fieldNames = [...fields];
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    for (const entry of this.entries) {
      try {
        entry.propagator.inject(context, carrier, setter);
      } catch (error) {
        reportFailure('inject', entry, error);
      }
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    let result = context;
    let matched = false;
    for (const entry of this.entries) {
      if (entry.carriesTraceContext && matched) continue;
      try {
        const extracted: unknown = entry.propagator.extract(result, carrier, getter);
        if (!isContext(extracted)) continue;
        if (!entry.carriesTraceContext) {
          result = extracted;
          continue;
        }
        const accepted = acceptNewSpanContext(result, extracted);
        if (accepted !== undefined) {
          result = accepted;
          matched = true;
        }
      } catch (error) {
        reportFailure('extract', entry, error);
      }
    }
    return result;
  }

  fields(): string[] {
    return [...this.fieldNames];
  }
}

/**
 * The extracted context when it holds a span other than the one before and
 * that span's context is valid, with ids lowercased: upstream's B3, X-Ray and
 * OT propagators validate with the API's isValidTraceId, which accepts
 * uppercase hex that OTLP and W3C do not. Otherwise undefined, and whatever
 * else that propagator set in the context is dropped with it.
 */
function acceptNewSpanContext(before: Context, extracted: Context): Context | undefined {
  const span = trace.getSpan(extracted);
  if (span === undefined || span === trace.getSpan(before)) return undefined;
  const spanContext = span.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  if (LOWERCASE_TRACE_ID.test(spanContext.traceId) && LOWERCASE_SPAN_ID.test(spanContext.spanId)) return extracted;
  return trace.setSpanContext(extracted, {
    ...spanContext,
    traceId: spanContext.traceId.toLowerCase(),
    spanId: spanContext.spanId.toLowerCase(),
  });
}

function safeFields(entry: PropagatorEntry): string[] {
  try {
    const fields: unknown = entry.propagator.fields();
    return Array.isArray(fields) ? fields.filter((field): field is string => typeof field === 'string') : [];
  } catch (error) {
    reportFailure('fields', entry, error);
    return [];
  }
}

function isContext(value: unknown): value is Context {
  return typeof value === 'object' && value !== null && typeof (value as Context).getValue === 'function';
}

/** A propagator bug, not a user's mistake: one diag line, no stack. */
function reportFailure(operation: string, entry: PropagatorEntry, error: unknown): void {
  try {
    diag.warn(`propagator ${entry.name} failed to ${operation}: ${error instanceof Error ? error.message : String(error)}`);
  } catch {
    // String(error) throws for an object whose toString throws: staying silent is fine.
  }
}
