import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { printLine } from './logging.ts';

const VARIABLE_NAME = /\b(?:OTEL|ACME)_[A-Z0-9_]+/g;

/**
 * Upstream lines that come once per export cycle while a collector is down or
 * slow. ExportHealth already says the same once (and counts the spans), so
 * these are silenced; at debug and verbose the retry lines stay, as asked.
 * Unreadable TLS files are named by config at start-up, with the variable.
 */
// "Dropping extra attributes.": once per log record over OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, which the record counts itself.
const ACCOUNTED_ELSEWHERE = [/^Dropped \d+ spans because maxQueueSize reached/, /^Failed to read (?:root certificate|client certificate)/, /^Dropping extra attributes\.$/];
const PER_BATCH_RETRY_LINES = [/^Export retry time /, /^Scheduling export retry/, /^Export succeeded after /, /^Export failed after maximum retry attempts/, /^Export failed with non-retryable error/];

/** The variables named in these lines: upstream's own complaint about them would repeat ours. */
export function variablesNamedIn(lines: readonly string[]): Set<string> {
  return new Set(lines.flatMap((line) => line.match(VARIABLE_NAME) ?? []));
}

/**
 * Routes the SDK's and instrumentations' diag output through our prefix, one
 * line per event. Upstream exporters re-read some OTEL_* variables and warn in
 * their own words; a variable config already warned about is not warned twice.
 */
export function installDiagLogger(level: DiagLogLevel, alreadyReported: ReadonlySet<string> = new Set()): void {
  if (level === DiagLogLevel.NONE) return;
  const silenced = level >= DiagLogLevel.DEBUG ? ACCOUNTED_ELSEWHERE : [...ACCOUNTED_ELSEWHERE, ...PER_BATCH_RETRY_LINES];
  const write = (severity: string) => (message: string, ...args: unknown[]) => {
    if (silenced.some((pattern) => pattern.test(String(message)))) return;
    if (alreadyReported.size > 0 && (String(message).match(VARIABLE_NAME) ?? []).some((name) => alreadyReported.has(name))) return;
    printLine(`${severity} ${message}${args.length ? ' ' + args.map(describeArg).join(' ') : ''}`);
  };
  const logger: DiagLogger = {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('verbose'),
  };
  diag.setLogger(logger, { logLevel: level, suppressOverrideMessage: true });
}

/** Upstream's debug lines dump spans whole; a span holds the processor, exporter and transport (with its metadata). */
const INTERNAL_KEYS = new Set(['_spanProcessor', '_transport', '_metadata', 'metadata', 'headers', '_headers']);
const MAX_ARG_LENGTH = 4_000;

function skipInternals(key: string, value: unknown): unknown {
  return INTERNAL_KEYS.has(key) ? undefined : value;
}

/** Errors print as their message only: a stack trace helps nobody fix a collector address. */
function describeArg(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === 'string') return arg;
  try {
    const text = JSON.stringify(arg, skipInternals) ?? String(arg);
    return text.length > MAX_ARG_LENGTH ? `${text.slice(0, MAX_ARG_LENGTH)}… (${text.length} characters)` : text;
  } catch {
    return String(arg);
  }
}
