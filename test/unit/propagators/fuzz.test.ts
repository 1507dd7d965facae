import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import {
  defaultTextMapGetter,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { createFormatPropagator, createPropagator, PROPAGATOR_NAMES, type PropagatorName } from '../../../src/propagators/index.ts';
import { W3CTraceState } from '../../../src/propagators/trace-state.ts';

/**
 * Random and adversarial header values through every propagator's extract,
 * alone and all together: nothing may throw, and any span context that comes
 * out must be valid (and have lowercase ids, except from upstream's formats
 * alone: the composite lowercases those). Each propagator alone, unwrapped so
 * that its own throws are seen, and the composite get at least
 * MIN_HEADER_VALUES values each. Reproduce a failure with
 * the seed it prints: FUZZ_SEED=<seed> node --test test/unit/propagators/fuzz.test.ts
 */
const SEED = (process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : Date.now()) >>> 0;
/** Per propagator, and for the composite: header values its extract is handed (with a getter that can read them). */
const MIN_HEADER_VALUES = 100_000;
const HUGE_LENGTH = 1024 * 1024;
/** One carrier in this many (per propagator) gets a 1 MB value: enough to catch quadratic parsing, few enough to stay fast. */
const HUGE_EVERY = 5_000;
/** The composite extracts the carriers of one round in this many: still several times MIN_HEADER_VALUES, at a third of the cost. */
const COMPOSITE_EVERY = 3;

const TRACE_NAMES = PROPAGATOR_NAMES.filter((name): name is Exclude<PropagatorName, 'none'> => name !== 'none');
/** Upstream's propagators accept uppercase hex (the API's isValidTraceId); FirstMatchPropagator lowercases what they yield. */
const UPSTREAM_FORMATS: ReadonlySet<string> = new Set(['b3', 'b3multi', 'xray', 'ottrace']);
const LOWERCASE_TRACE_ID = /^[0-9a-f]{32}$/;
const LOWERCASE_SPAN_ID = /^[0-9a-f]{16}$/;
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
const STRUCTURAL = ':-;/=,%@{}() \t0123456789abcdefABCDEF';
const STRUCTURAL_CHARS = [...STRUCTURAL];
const EXTRA_HEADERS = ['ot-baggage-user', 'uberctx-user', 'jaeger-debug-id', 'x-b3-parentspanid', 'content-type', 'cookie'];

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = createRandom(SEED);
const int = (below: number): number => Math.floor(random() * below);
const chance = (p: number): boolean => random() < p;
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)]!;
}
// Plain loops and a table of 4-digit hex strings, 8 digits per draw: generating values costs as much as extracting them.
const HEX4 = Array.from({ length: 0x1_0000 }, (_, n) => n.toString(16).padStart(4, '0'));
function hex(length: number): string {
  let text = '';
  while (text.length < length) {
    const bits = (random() * 0x1_0000_0000) >>> 0;
    text += HEX4[bits >>> 16]! + HEX4[bits & 0xffff]!;
  }
  return text.length === length ? text : text.slice(0, length);
}
function fromAlphabet(alphabet: string, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[int(alphabet.length)];
  return text;
}
function randomChars(length: number, maxCode: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(int(maxCode));
  return text;
}

function guid(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}

function vostokEntry(key: string, value: string): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const valueBytes = Buffer.from(value, 'utf8');
  const prefix = (length: number): Buffer => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(length, 0);
    return bytes;
  };
  return Buffer.concat([prefix(keyBytes.length), keyBytes, prefix(valueBytes.length), valueBytes]);
}

function vostokBytes(): Buffer {
  const entries: Buffer[] = [];
  if (chance(0.4)) entries.push(vostokEntry('vostok.request.priority', 'Ordinary'));
  entries.push(vostokEntry('vostok.tracing.context', `${guid(hex(32))};${guid(hex(16).padEnd(32, '0'))}`));
  if (chance(0.3)) entries.push(vostokEntry(fromAlphabet('abcdefgh.', int(20)), randomChars(int(20), 0x800)));
  return Buffer.concat(entries);
}

/** A well-formed value for each header we know, to be mutated into near misses. */
const VALID_VALUES: Readonly<Partial<Record<string, () => string>>> = {
  traceparent: () => `${chance(0.8) ? '00' : hex(2)}-${hex(32)}-${hex(16)}-${hex(2)}${chance(0.1) ? `-${hex(4)}` : ''}`,
  // Keys of the current grammar (`@` anywhere after the first character, a digit first), duplicates, and lists past 512 characters.
  tracestate: () =>
    Array.from({ length: 1 + int(34) }, (_, i) => {
      const key = pick([`k${i}`, `t${i}@sys`, `${i}k@`, `a@${i}@b`, `k${int(4)}`, `${'z'.repeat(200 + int(57))}${i}`]);
      return `${key}=${chance(0.1) ? 'x'.repeat(100 + int(157)) : fromAlphabet('abc 123!~', 1 + int(8)).trim() || 'v'}`;
    }).join(pick([',', ', ', ' ,\t'])),
  baggage: () => `user=${hex(4)};meta=1,${hex(3)}=${hex(5)}`,
  b3: () => `${hex(pick([16, 32]))}-${hex(16)}${chance(0.7) ? `-${pick(['0', '1', 'd'])}` : ''}${chance(0.3) ? `-${hex(16)}` : ''}`,
  'x-b3-traceid': () => hex(pick([16, 32])),
  'x-b3-spanid': () => hex(16),
  'x-b3-sampled': () => pick(['0', '1', 'true', 'false', 'True']),
  'x-b3-flags': () => pick(['0', '1']),
  'uber-trace-id': () => {
    const value = `${hex(pick([16, 32, 1 + int(32)]))}:${hex(16)}:${pick(['0', hex(16)])}:${hex(1 + int(2))}`;
    return chance(0.2) ? value.replaceAll(':', '%3A') : value;
  },
  'x-amzn-trace-id': () => `Root=1-${hex(8)}-${hex(24)};Parent=${hex(16)};Sampled=${pick(['0', '1', '?'])}`,
  'ot-tracer-traceid': () => hex(pick([16, 32])),
  'ot-tracer-spanid': () => hex(16),
  'ot-tracer-sampled': () => pick(['true', 'false']),
  'x-kontur-trace-id': () => (chance(0.5) ? hex(32) : guid(hex(32))),
  'x-kontur-trace-spanid': () => hex(16),
  'x-kontur-trace-issampled': () => pick(['true', 'True', 'false', '']),
  'context-globals': () => vostokBytes().toString('base64'),
  'x-cloud-trace-context': () => `${hex(32)}/${BigInt(`0x${hex(16)}`)}${chance(0.8) ? `;o=${pick(['0', '1'])}` : ''}`,
};

function mutate(value: string): string {
  let result = value;
  for (let n = 1 + int(3); n > 0; n--) {
    const at = int(result.length + 1);
    switch (int(9)) {
      case 0: // bit flip
        if (result.length > 0) {
          const i = int(result.length);
          result = result.slice(0, i) + String.fromCharCode(result.charCodeAt(i) ^ (1 << int(8))) + result.slice(i + 1);
        }
        break;
      case 1:
        result = result.slice(0, at);
        break;
      case 2:
        result = result.slice(0, at) + pick(STRUCTURAL_CHARS) + result.slice(at);
        break;
      case 3:
        result = result.slice(0, at) + result.slice(at + 1);
        break;
      case 4:
        result = result.slice(0, at) + result.slice(int(result.length), int(result.length) + int(40)) + result.slice(at);
        break;
      case 5: {
        const char = result.charAt(at);
        result = result.slice(0, at) + (char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase()) + result.slice(at + 1);
        break;
      }
      case 6:
        result = result.slice(0, at) + pick(['\u0000', '\ud800', '\udfff', '😀', 'é', '\u00a0', '\r\n', '\u202e', '１']) + result.slice(at);
        break;
      case 7:
        result = pick([' ', '\t', '']) + result + pick([' ', '\t', ',', ';', '']);
        break;
      default:
        result = result + pick(['', '-', ':', '/', ';o=1', ',k=v', '-00']) + result.slice(0, int(10));
        break;
    }
  }
  return result;
}

/** Vostok's parser is binary: corrupt the bytes, keep the base64 valid, so the length checks are reached. */
function mutateVostokBytes(): string {
  const bytes = vostokBytes();
  for (let n = 1 + int(3); n > 0; n--) {
    const i = int(bytes.length);
    switch (int(4)) {
      case 0:
        bytes[i] = bytes[i]! ^ (1 << int(8));
        break;
      case 1:
        bytes.writeInt32LE(pick([-1, -2147483648, 2147483647, bytes.length, bytes.length - i, 0]), Math.min(i, bytes.length - 4));
        break;
      case 2:
        return bytes.subarray(0, i).toString('base64');
      default:
        bytes[i] = pick([0x3b, 0x2d, 0x7b, 0x00, 0xff]);
    }
  }
  return bytes.toString('base64');
}

function hugeValue(header: string): string {
  const valid = (VALID_VALUES[header] ?? VALID_VALUES['traceparent']!)();
  switch (int(7)) {
    case 0:
      return valid + 'a'.repeat(HUGE_LENGTH);
    case 1:
      return ','.repeat(HUGE_LENGTH) + valid;
    case 2:
      return ' '.repeat(HUGE_LENGTH / 2) + 'x' + ' \t'.repeat(HUGE_LENGTH / 4);
    case 3:
      return 'A'.repeat(HUGE_LENGTH);
    case 4:
      return '0123456789abcdef'.repeat(HUGE_LENGTH / 16);
    case 5:
      return `${'k=v,'.repeat(HUGE_LENGTH / 4)}`;
    default:
      return '%3A'.repeat(HUGE_LENGTH / 3);
  }
}

const ODD_VALUES: readonly unknown[] = [42, 0, -1, NaN, null, undefined, true, {}, [], [[]], [1, 'a'], 10n, Symbol('header'), () => 'x', new Date(0)];
const SHORT_VALUES = ['', ' ', '\t', '0', '-', ':::', '/', ';o=1', '==', 'null', 'undefined', '[object Object]'];

/** A header value: mostly near misses of a valid one, also noise, non-strings and repeats. */
function headerValue(header: string, huge: boolean): unknown {
  if (huge) return hugeValue(header);
  const valid = VALID_VALUES[header];
  switch (int(14)) {
    case 0:
    case 1:
      return valid ? valid() : fromAlphabet(STRUCTURAL, int(60));
    case 2:
    case 3:
    case 4:
      return mutate(valid ? valid() : fromAlphabet(STRUCTURAL, int(60)));
    case 5:
      return header === 'context-globals' ? mutateVostokBytes() : mutate(valid ? valid() : '');
    case 6:
      return randomChars(int(200), 0x100); // random bytes as latin1
    case 7:
      return fromAlphabet(STRUCTURAL, int(120));
    case 8:
      return randomChars(int(80), 0x10000); // any UTF-16 unit, lone surrogates included
    case 9:
      return Array.from({ length: int(4) }, () => (valid && chance(0.5) ? valid() : mutate(valid ? valid() : 'x')));
    case 10:
      return pick(ODD_VALUES);
    case 11:
      return {
        toString() {
          throw new Error('toString');
        },
        valueOf() {
          throw new Error('valueOf');
        },
      };
    case 12:
      return pick(SHORT_VALUES);
    default:
      return randomChars(int(40), 0x7f);
  }
}

function nameVariant(name: string): string {
  switch (int(6)) {
    case 0:
      return name.toUpperCase();
    case 1:
      return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
    case 2:
      return [...name].map((c) => (chance(0.5) ? c.toUpperCase() : c)).join('');
    default:
      return name;
  }
}

const ANY_HEADERS = [...Object.keys(VALID_VALUES), ...EXTRA_HEADERS];
const NOT_CARRIERS: readonly unknown[] = [null, undefined, 0, 'traceparent', []];

/** A carrier aimed at the target's own fields (70 %), and how many header values it holds. */
function buildCarrier(fields: readonly string[], huge: boolean): { carrier: unknown; values: number } {
  if (chance(0.01)) return { carrier: pick(NOT_CARRIERS), values: 0 };
  if (chance(0.02)) return { carrier: JSON.parse(`{"__proto__":{"traceparent":"00-${hex(32)}-${hex(16)}-01"},"constructor":{"prototype":{"polluted":1}}}`), values: 1 };
  const carrier: Record<string, unknown> = chance(0.5) ? {} : (Object.create(null) as Record<string, unknown>);
  let values = 0;
  for (let n = 1 + int(4); n > 0; n--, values++) {
    const roll = random();
    const field = roll < 0.7 && fields.length > 0 ? pick(fields) : pick(ANY_HEADERS);
    // One huge value per huge carrier is enough, and keeps the 1 MB strings few.
    const value = headerValue(field, huge && values === 0);
    if (roll > 0.95) {
      const key = pick(PROTOTYPE_KEYS);
      const nested = chance(0.5) ? { [field]: value } : value;
      if (chance(0.5)) Object.defineProperty(carrier, key, { value: nested, enumerable: true, configurable: true, writable: true });
      else carrier[key] = nested;
      continue;
    }
    carrier[chance(0.15) ? nameVariant(field) : field] = value;
  }
  return { carrier, values };
}

const caseInsensitiveGetter: TextMapGetter = {
  get(carrier, key) {
    if (typeof carrier !== 'object' || carrier === null) return undefined;
    const record = carrier as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      if (name.toLowerCase() === key) return record[name] as string | string[] | undefined;
    }
    return undefined;
  },
  keys: (carrier) => (typeof carrier === 'object' && carrier !== null ? Object.keys(carrier) : []),
};

const throwingGetter: TextMapGetter = {
  get() {
    throw new Error('getter');
  },
  keys() {
    throw new Error('keys');
  },
};

function describeCarrier(carrier: unknown): string {
  try {
    const text = JSON.stringify(carrier, (_, value: unknown) => (typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…(${value.length})` : typeof value === 'bigint' ? `${value}n` : value));
    return text ?? String(carrier);
  } catch {
    return Object.prototype.toString.call(carrier);
  }
}

/** Why a result is wrong, or undefined when it is fine. */
function checkResult(result: unknown, lowercaseIds: boolean): string | undefined {
  if (typeof result !== 'object' || result === null || typeof (result as Context).getValue !== 'function') return 'extract did not return a context';
  const spanContext = trace.getSpanContext(result as Context);
  if (spanContext === undefined) return undefined;
  if (!isSpanContextValid(spanContext)) return `invalid span context ${JSON.stringify(spanContext)}`;
  if (lowercaseIds && (!LOWERCASE_TRACE_ID.test(spanContext.traceId) || !LOWERCASE_SPAN_ID.test(spanContext.spanId))) return `ids not lowercase hex ${JSON.stringify(spanContext)}`;
  if (!Number.isInteger(spanContext.traceFlags) || spanContext.traceFlags < 0 || spanContext.traceFlags > 0xff) return `bad trace flags ${spanContext.traceFlags}`;
  return checkTraceState(spanContext.traceState?.serialize());
}

/** A tracestate we would send on: within the spec's limits, each key once, and read back as itself. */
function checkTraceState(serialized: string | undefined): string | undefined {
  if (serialized === undefined) return undefined;
  const keys = serialized.split(',').map((member) => member.slice(0, member.indexOf('=')));
  if (serialized.length > 512 || keys.length > 32 || new Set(keys).size !== keys.length) return `tracestate over the limits or with a duplicate: ${serialized}`;
  if (W3CTraceState.parse(serialized)?.serialize() !== serialized) return `tracestate does not read back as itself: ${serialized}`;
  return undefined;
}

interface Target {
  readonly name: string;
  readonly propagator: TextMapPropagator;
  readonly fields: readonly string[];
  /** Header values handed to this propagator's extract with a getter that reads them. */
  values: number;
  carriers: number;
  throws: number;
  extracted: number;
}

function target(name: string, propagator: TextMapPropagator): Target {
  return { name, propagator, fields: propagator.fields(), values: 0, carriers: 0, throws: 0, extracted: 0 };
}

test(`each propagator's extract, alone and combined, takes ${MIN_HEADER_VALUES} random header values without throwing or yielding a bad span context (seed ${SEED})`, (t) => {
  t.diagnostic(`fuzz seed ${SEED}; reproduce with FUZZ_SEED=${SEED}`);
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const all = target('all', createPropagator(TRACE_NAMES));
  const singles = TRACE_NAMES.map((name) => target(name, createFormatPropagator(name)));
  let baggageExtracted = 0;
  let hugeCarriers = 0;
  const failures: string[] = [];
  const started = performance.now();

  const extractWith = (subject: Target, carrier: unknown, getter: TextMapGetter, values: number, where: string): void => {
    subject.carriers++;
    if (getter !== throwingGetter) subject.values += values;
    let problem: string | undefined;
    try {
      const result = subject.propagator.extract(ROOT_CONTEXT, carrier, getter);
      problem = checkResult(result, !UPSTREAM_FORMATS.has(subject.name));
      if (problem === undefined && trace.getSpanContext(result) !== undefined) subject.extracted++;
      if (subject.name === 'baggage' && propagation.getBaggage(result) !== undefined) baggageExtracted++;
    } catch (error) {
      subject.throws++;
      problem = `threw ${error instanceof Error ? error.stack : String(error)}`;
    }
    if (problem !== undefined && failures.length < 5) {
      failures.push(`seed ${SEED} ${where} propagator ${subject.name}: ${problem}\n  carrier: ${describeCarrier(carrier)}`);
    }
  };

  // Round robin over the propagators still short of the minimum. The composite runs every trace format on a
  // carrier that none matches, as much as all the singles together: it takes every COMPOSITE_EVERY-th round.
  for (let round = 1; singles.some((single) => single.values < MIN_HEADER_VALUES); round++) {
    for (const single of singles) {
      if (single.values >= MIN_HEADER_VALUES) continue;
      const huge = (single.carriers + 1) % HUGE_EVERY === 0;
      if (huge) hugeCarriers++;
      const { carrier, values } = buildCarrier(single.fields, huge);
      const getter = chance(0.15) ? caseInsensitiveGetter : defaultTextMapGetter;
      extractWith(single, carrier, getter, values, `round ${round}`);
      // A format alone may let its getter's exception through, as upstream's do; the composite must contain it.
      if (round % COMPOSITE_EVERY === 0) extractWith(all, carrier, chance(0.02) ? throwingGetter : getter, values, `round ${round} (carrier for ${single.name})`);
    }
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const summary = (s: Target) => `${s.name} ${s.values} values/${s.carriers} carriers/${s.extracted} contexts/${s.throws} throws`;
  t.diagnostic(`${seconds} s, ${hugeCarriers} carriers with a 1 MB value; ${[all, ...singles].map(summary).join('; ')}; baggage entries ${baggageExtracted}`);
  assert.deepEqual(failures, [], `FUZZ_SEED=${SEED}`);
  for (const subject of [all, ...singles]) {
    assert.ok(subject.values >= MIN_HEADER_VALUES, `${subject.name} got ${subject.values} header values, fewer than ${MIN_HEADER_VALUES}`);
    assert.equal(subject.throws, 0, `FUZZ_SEED=${SEED}: ${subject.name} threw`);
  }
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore, 'Object.prototype was changed');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  // The fuzzer must reach past the first check of each format, or it proves little.
  for (const single of singles) {
    if (single.name === 'baggage') continue;
    assert.ok(single.extracted > 0, `FUZZ_SEED=${SEED}: ${single.name} never extracted a context; the generators are off`);
  }
  assert.ok(baggageExtracted > 0, `FUZZ_SEED=${SEED}: baggage was never extracted`);
  // Every propagator meets 1 MB values: a quadratic parser in any of them shows as a slow run.
  assert.ok(hugeCarriers >= singles.length, `only ${hugeCarriers} carriers with a 1 MB value`);
});
