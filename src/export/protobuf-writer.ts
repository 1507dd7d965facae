/**
 * The protobuf wire format, written into one buffer that is reused for every
 * message (grown, never shrunk). Byte for byte what upstream's ProtobufWriter
 * (@opentelemetry/otlp-transformer 0.301, common/protobuf/protobuf-writer)
 * writes: the same varints (negative ones as ten bytes), the same UTF-8
 * (lone surrogates as U+FFFD) and minimal length prefixes, so our payload can
 * be compared with upstream's byte for byte.
 */

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** The key of field `number` with wire type `wireType`, as the varint it is written as. */
export function fieldKey(number: number, wireType: number): number {
  return (number << 3) | wireType;
}

/** Bytes of the varint of a non-negative length or count (upstream's estimateVarintSize). */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 34359738368) return 5;
  if (value < 4398046511104) return 6;
  if (value < 562949953421312) return 7;
  if (value < 72057594037927940) return 8;
  return 9;
}

/** Below this many UTF-16 units a string is written by a JS loop; longer ones by Buffer#write (native). */
const SHORT_STRING = 64;

export class ProtobufWriter {
  buffer: Buffer;
  pos = 0;

  constructor(initialSize = 16 * 1024) {
    this.buffer = Buffer.allocUnsafeSlow(initialSize);
  }

  /** Makes room for `size` more bytes. */
  ensure(size: number): void {
    const needed = this.pos + size;
    if (needed <= this.buffer.length) return;
    let next = this.buffer.length * 2;
    while (next < needed) next *= 2;
    const grown = Buffer.allocUnsafeSlow(next);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  /** A field key (or any varint known to be below 2^32 and non-negative). */
  key(value: number): void {
    this.ensure(5);
    const buffer = this.buffer;
    while (value > 0x7f) {
      buffer[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[this.pos++] = value;
  }

  /** A varint of any integer up to 2^64, negatives in two's complement (ten bytes), as upstream. */
  varint(value: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buffer[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buffer[this.pos++] = v;
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 4294967296) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 4294967296) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buffer[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[this.pos++] = low & 0x7f;
  }

  fixed32(value: number): void {
    this.ensure(4);
    // Byte stores rather than writeUInt32LE: no range checks, and inlined (flags and times are written per span).
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = value;
    buffer[pos++] = value >>> 8;
    buffer[pos++] = value >>> 16;
    buffer[pos++] = value >>> 24;
    this.pos = pos;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = low;
    buffer[pos++] = low >>> 8;
    buffer[pos++] = low >>> 16;
    buffer[pos++] = low >>> 24;
    buffer[pos++] = high;
    buffer[pos++] = high >>> 8;
    buffer[pos++] = high >>> 16;
    buffer[pos++] = high >>> 24;
    this.pos = pos;
  }

  double(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Length-delimited raw bytes. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Length-delimited, already encoded bytes copied as they are (a cached key, an encoded scope). */
  raw(value: Uint8Array): void {
    const length = value.length;
    this.ensure(length);
    if (length < 96) {
      const buffer = this.buffer;
      let pos = this.pos;
      for (let i = 0; i < length; i++) buffer[pos++] = value[i]!;
      this.pos = pos;
    } else {
      this.buffer.set(value, this.pos);
      this.pos += length;
    }
  }

  /** A length-delimited UTF-8 string. */
  string(value: string): void {
    const length = value.length;
    if (length < SHORT_STRING) {
      // Most strings are short and ASCII: one pass, with the one-byte length written first.
      this.ensure(length + 1);
      const buffer = this.buffer;
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) return this.utf8String(value);
        buffer[pos++] = code;
      }
      buffer[start] = length;
      this.pos = pos;
      return;
    }
    this.utf8String(value);
  }

  private utf8String(value: string): void {
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.varint(byteLength);
    this.ensure(byteLength);
    this.pos += this.buffer.write(value, this.pos, byteLength, 'utf8');
  }

  /** The bytes of a hex id (span, trace), length-delimited, as upstream's hexToBinary decodes them. */
  hexBytes(hex: string): void {
    const count = hex.length >>> 1;
    this.varint(count);
    this.ensure(count);
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < 2 * count; i += 2) {
      const high = hex.charCodeAt(i);
      const low = hex.charCodeAt(i + 1);
      buffer[pos++] = high < 128 && low < 128 ? (HEX_DIGITS[high]! << 4) | HEX_DIGITS[low]! : (hexDigit(high) << 4) | hexDigit(low);
    }
    this.pos = pos;
  }

  /** Starts a length-delimited message: one byte held for its length, returned as the message's start. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the message begun at `start`: writes its length, moving the body along when it needs more than one byte. */
  end(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buffer[start] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    const buffer = this.buffer;
    buffer.copyWithin(start + size, start + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let at = start;
    while (v > 0x7f) {
      buffer[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buffer[at] = v;
  }

  /** A copy of what was written, in a buffer of its own. */
  copy(): Buffer {
    const copy = Buffer.allocUnsafeSlow(this.pos);
    this.buffer.copy(copy, 0, 0, this.pos);
    return copy;
  }
}

/** Upstream's hexToBinary digit: 0-9, a-f, and anything else as if A-F. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

/** hexDigit of every ASCII code, looked up instead of computed (ids are hexed twice per span: trace and span). */
const HEX_DIGITS = Int32Array.from({ length: 128 }, (_, code) => hexDigit(code));

/** The last whole second written, as nanoseconds (low and high 32 bits): the times of a burst of spans share a few seconds. */
let lastSeconds = -1;
let lastSecondLow = 0;
let lastSecondHigh = 0;
/** fixed64Nanos()'s result. */
let low = 0;
let high = 0;

/**
 * An HrTime [seconds, nanoseconds] as fixed64 nanoseconds, with upstream's
 * arithmetic (writeHrTimeAsFixed64), so out-of-range times wrap the same way.
 * For whole seconds below 2^32 and whole nanoseconds below 2^32, that
 * arithmetic is exact, and so is adding the nanoseconds to the second's
 * nanoseconds, which are kept from the last time in the same second.
 */
export function writeHrTime(writer: ProtobufWriter, time: readonly [number, number]): void {
  const seconds = time[0];
  const nanos = time[1];
  if (seconds === lastSeconds && nanos >>> 0 === nanos) {
    let sumLow = lastSecondLow + nanos;
    let sumHigh = lastSecondHigh;
    if (sumLow >= 4294967296) {
      sumLow -= 4294967296;
      sumHigh = (sumHigh + 1) >>> 0;
    }
    writer.fixed64(sumLow, sumHigh);
    return;
  }
  if (seconds >>> 0 === seconds) {
    fixed64Nanos(seconds, 0);
    lastSeconds = seconds;
    lastSecondLow = low;
    lastSecondHigh = high;
  }
  fixed64Nanos(seconds, nanos);
  writer.fixed64(low, high);
}

/** Upstream's writeHrTimeAsFixed64 arithmetic, into `low` and `high`. */
function fixed64Nanos(seconds: number, nanos: number): void {
  const lower16 = (seconds & 0xffff) * 1e9;
  const upper = ((seconds / 0x10000) >>> 0) * 1e9;
  const lowWithCarry = (lower16 >>> 0) + (((upper & 0xffff) * 0x10000) >>> 0) + nanos;
  low = lowWithCarry >>> 0;
  const carry = Math.floor(lowWithCarry / 4294967296);
  high = (Math.floor(lower16 / 4294967296) + ((upper / 0x10000) >>> 0) + carry) >>> 0;
}
