import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { printLine } from './logging.ts';

const VARIABLE_NAME = /\b(?:OTEL|ACME)_[A-Z0-9_]+/g;

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
  const write = (severity: string) => (message: string, ...args: unknown[]) => {
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

/** Errors print as their message only: a stack trace helps nobody fix a collector address. */
function describeArg(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}
