/** Comparing an app's log output with and without the loader. */

const CORRELATION_FIELD = /"(trace_id|span_id|trace_flags)":"[0-9a-f]+",?/g;

/** The documented difference: the three correlation fields, wherever the library put them in the line. */
export function withoutCorrelationFields(output: string): string {
  return output.replace(CORRELATION_FIELD, '').replace(/,}/g, '}');
}

/** What differs between any two runs, with or without the loader. */
export function withoutRunVariance(output: string): string {
  return output.replace(/"time":("[^"]*"|\d+)/g, '"time":T').replace(/"pid":\d+/g, '"pid":P');
}
