/**
 * pino, winston and bunyan records mapped to OTLP log record fields, as
 * upstream's log sending maps them (instrumentation-pino's OTelPinoStream,
 * winston-transport's OpenTelemetryTransportV3, instrumentation-bunyan's
 * OpenTelemetryBunyanStream): the message is the body, the level gives the
 * severity, every other field is an attribute, the correlation fields are not
 * (the record carries the trace and span ids themselves).
 */
import type { AnyValue } from '@opentelemetry/api';
import { CORRELATION_FIELDS, type AnyValueMap, type TappedLogRecord } from './log-record-taps.ts';

/** OTLP SeverityNumber (logs data model): TRACE=1, DEBUG=5, INFO=9, WARN=13, ERROR=17, FATAL=21, +1..3 within a range. */
const TRACE = 1;
const DEBUG = 5;
const INFO = 9;
const WARN = 13;
const ERROR = 17;
const FATAL = 21;
const UNSPECIFIED = 0;

/** pino and bunyan share numeric levels: trace 10, debug 20, info 30, warn 40, error 50, fatal 60; custom levels fall in between. */
export function severityOfNumericLevel(level: number): number {
  if (level >= 60) return FATAL;
  if (level >= 50) return ERROR;
  if (level >= 40) return WARN;
  if (level >= 30) return INFO;
  if (level >= 20) return DEBUG;
  if (level >= 10) return TRACE;
  return UNSPECIFIED;
}

/** winston's npm, syslog and cli level sets, as upstream's winston transport maps them. */
const WINSTON_SEVERITIES: Readonly<Record<string, number>> = {
  emerg: FATAL + 2,
  alert: FATAL + 1,
  crit: FATAL,
  error: ERROR,
  warning: WARN,
  warn: WARN,
  notice: INFO + 1,
  info: INFO,
  help: INFO,
  data: INFO,
  http: DEBUG + 2,
  verbose: DEBUG + 1,
  prompt: DEBUG,
  debug: DEBUG,
  input: TRACE + 1,
  silly: TRACE,
};

export function severityOfWinstonLevel(level: string): number {
  return WINSTON_SEVERITIES[level] ?? UNSPECIFIED;
}

function attributesOf(fields: Record<string, unknown>, skip: ReadonlySet<string>): AnyValueMap {
  const attributes: AnyValueMap = {};
  for (const key of Object.keys(fields)) {
    if (skip.has(key) || CORRELATION_FIELDS.has(key)) continue;
    const value = fields[key];
    if (value !== undefined && typeof value !== 'function') attributes[key] = toAnyValue(value);
  }
  return attributes;
}

/** Dates and errors as their readable forms; plain objects and arrays as OTLP maps and arrays. */
function toAnyValue(value: unknown): AnyValue {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack ?? '' };
  if (Array.isArray(value)) return value.map(toAnyValue);
  if (typeof value === 'object' && value !== null) {
    const map: AnyValueMap = {};
    for (const key of Object.keys(value)) map[key] = toAnyValue((value as Record<string, unknown>)[key]);
    return map;
  }
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  return value as AnyValue;
}

function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' || value instanceof Date) {
    const time = new Date(value).getTime();
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

/**
 * pino: the finished line (every binding, mixin and serializer applied), as
 * the app's destination receives it. Its level is taken from the call (the
 * line's may be a label if formatters.level says so), its label from the
 * logger's own level names.
 */
export function pinoRecord(line: string, level: number, messageKey: string, levelLabel: string | undefined): TappedLogRecord | undefined {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof fields !== 'object' || fields === null) return undefined;
  return {
    severityNumber: severityOfNumericLevel(level),
    severityText: levelLabel ?? String(level),
    body: toAnyValue(fields[messageKey] ?? ''),
    attributes: attributesOf(fields, new Set([messageKey, 'level', 'time'])),
    timestamp: timeOf(fields.time),
  };
}

/** winston: the info object given to Logger#write, before the logger's format runs (which is per transport output). */
export function winstonRecord(info: Record<string, unknown>, level: string): TappedLogRecord {
  return {
    severityNumber: severityOfWinstonLevel(level),
    severityText: level,
    body: toAnyValue(info.message ?? ''),
    attributes: attributesOf(info, new Set(['message', 'level'])),
    timestamp: timeOf(info.timestamp),
  };
}

/** bunyan's core fields (its record format, v0) are the record's own fields in OTLP, or the resource's. */
const BUNYAN_CORE_FIELDS: ReadonlySet<string> = new Set(['msg', 'level', 'time', 'v', 'hostname', 'pid']);

/** bunyan: the record given to Logger#_emit, as every stream of the logger receives it. */
export function bunyanRecord(record: Record<string, unknown>, levelName: string | undefined): TappedLogRecord {
  const level = typeof record.level === 'number' ? record.level : 0;
  return {
    severityNumber: severityOfNumericLevel(level),
    severityText: levelName ?? String(level),
    body: toAnyValue(record.msg ?? ''),
    attributes: attributesOf(record, BUNYAN_CORE_FIELDS),
    timestamp: timeOf(record.time),
  };
}
