/**
 * Small parsers for OTEL_* values. Each takes the variable name so the warning
 * can name it, and returns the fallback (with a warning) on anything invalid.
 */
export type Warn = (message: string) => void;
type Env = Readonly<Record<string, string | undefined>>;

/** Unset and empty are the same thing (spec: "empty value ... MUST be treated as unset"). */
export function readRaw(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function readBoolean(env: Env, name: string, fallback: boolean, warn: Warn): boolean {
  const raw = readRaw(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  warn(`${name}=${quote(raw)} is not true or false; using ${fallback}`);
  return fallback;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function readNumber(env: Env, name: string, fallback: number, warn: Warn, rule: NumberRule = {}): number {
  const raw = readRaw(env, name);
  if (raw === undefined) return fallback;
  // Decimal only: Number() would also take "0x10", "0b11" and "" as numbers.
  const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true } = rule;
  const valid = Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!valid) {
    const kind = integer ? 'a whole number' : 'a number';
    warn(`${name}=${quote(raw)} is not ${kind} from ${min} to ${max}; using ${fallback}`);
    return fallback;
  }
  return value;
}

/** An optional limit: unset stays undefined so the SDK's own default applies. */
export function readOptionalNumber(env: Env, name: string, warn: Warn, rule: NumberRule = {}): number | undefined {
  if (readRaw(env, name) === undefined) return undefined;
  const value = readNumber(env, name, Number.NaN, warn, rule);
  return Number.isNaN(value) ? undefined : value;
}

export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T, warn: Warn): T {
  const raw = readRaw(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  const match = choices.find((choice) => choice === lower);
  if (match !== undefined) return match;
  warn(`${name}=${quote(raw)} is not one of ${choices.join(', ')}; using ${fallback}`);
  return fallback;
}

/** Comma list, lowercased, empty members dropped, order kept, duplicates removed. */
export function readList(env: Env, name: string): string[] | undefined {
  const raw = readRaw(env, name);
  if (raw === undefined) return undefined;
  return [...new Set(raw.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== ''))];
}

/**
 * Keeps the names that are known, warns once about the others, never drops the
 * known ones because of an unknown one (upstream's register turns propagation off
 * entirely on one typo).
 */
export function splitKnown<T extends string>(
  name: string,
  items: readonly string[],
  known: readonly T[],
  warn: Warn,
  aliases: Readonly<Record<string, T>> = {},
  /** What is used when no name is known, said in the same line. */
  fallback?: string,
): T[] {
  const accepted: T[] = [];
  const unknown: string[] = [];
  for (const item of items) {
    // hasOwn: a name such as `constructor` must not resolve through the prototype.
    const resolved = (known as readonly string[]).includes(item) ? (item as T) : Object.hasOwn(aliases, item) ? aliases[item] : undefined;
    if (resolved === undefined) unknown.push(item);
    else if (!accepted.includes(resolved)) accepted.push(resolved);
  }
  if (unknown.length > 0) {
    const names = unknown.map(quote).join(', ');
    const instead = fallback !== undefined && accepted.length === 0 ? `; using ${fallback}` : '';
    warn(`${name}: unknown ${unknown.length === 1 ? 'name' : 'names'} ${names} ignored; accepted: ${known.join(', ')}${instead}`);
  }
  return accepted;
}

/** Values are shown cut short and with control characters escaped, so one line stays one line. */
export function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  // JSON.stringify escapes C0 controls but leaves DEL, C1 controls and the Unicode line separators.
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
