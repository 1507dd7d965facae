import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { printLine } from './logging.ts';

/** Routes the SDK's and instrumentations' diag output through our prefix, one line per event. */
export function installDiagLogger(level: DiagLogLevel): void {
  if (level === DiagLogLevel.NONE) return;
  const write = (severity: string) => (message: string, ...args: unknown[]) => {
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
