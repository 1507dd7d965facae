/**
 * Counts the traces in a dd-trace agent payload without decoding it: only
 * the msgpack headers in front of the traces are read.
 * - /v0.4/traces: an array of traces (each an array of span maps).
 * - /v0.5/traces: [string table, array of traces], the string table an array of strings.
 * Returns undefined for a body that is not of that shape.
 */
export function countTracesV04(body: Uint8Array): number | undefined {
  return readArrayHeader(body, 0)?.length;
}

export function countTracesV05(body: Uint8Array): number | undefined {
  const outer = readArrayHeader(body, 0);
  if (outer === undefined || outer.length !== 2) return undefined;
  const strings = readArrayHeader(body, outer.next);
  if (strings === undefined) return undefined;
  let offset = strings.next;
  for (let i = 0; i < strings.length; i++) {
    const string = readStringHeader(body, offset);
    if (string === undefined) return undefined;
    offset = string.next + string.length;
  }
  return readArrayHeader(body, offset)?.length;
}

interface Header {
  /** Elements of an array, bytes of a string. */
  length: number;
  /** Offset of the first byte after the header. */
  next: number;
}

export function readArrayHeader(bytes: Uint8Array, offset: number): Header | undefined {
  const type = bytes[offset];
  if (type === undefined) return undefined;
  if (type >= 0x90 && type <= 0x9f) return { length: type & 0x0f, next: offset + 1 };
  if (type === 0xdc) return readLength(bytes, offset + 1, 2);
  if (type === 0xdd) return readLength(bytes, offset + 1, 4);
  return undefined;
}

export function readStringHeader(bytes: Uint8Array, offset: number): Header | undefined {
  const type = bytes[offset];
  if (type === undefined) return undefined;
  if (type >= 0xa0 && type <= 0xbf) return fits(bytes, { length: type & 0x1f, next: offset + 1 });
  if (type === 0xd9) return fits(bytes, readLength(bytes, offset + 1, 1));
  if (type === 0xda) return fits(bytes, readLength(bytes, offset + 1, 2));
  if (type === 0xdb) return fits(bytes, readLength(bytes, offset + 1, 4));
  return undefined;
}

/** A big-endian unsigned length of `size` bytes at `offset`. */
function readLength(bytes: Uint8Array, offset: number, size: 1 | 2 | 4): Header | undefined {
  if (offset + size > bytes.length) return undefined;
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + bytes[offset + i]!;
  return { length, next: offset + size };
}

/** A string header whose bytes run past the body is a truncated body. */
function fits(bytes: Uint8Array, header: Header | undefined): Header | undefined {
  return header !== undefined && header.next + header.length <= bytes.length ? header : undefined;
}
