/**
 * The value a propagator reads when a carrier holds one header more than once:
 * the first, as upstream's B3, X-Ray and Jaeger propagators and Vostok's own
 * do. Anything that is not a string (a number, an object from a hand-built
 * carrier) counts as absent.
 */
export function firstHeaderValue(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}
