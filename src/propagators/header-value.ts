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

/**
 * The value without the OWS (`*( SP / HTAB )`, RFC 9110) around it. A loop,
 * because `/[ \t]+$/` is quadratic on long values full of spaces.
 */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
