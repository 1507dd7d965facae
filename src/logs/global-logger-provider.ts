import { createNoopLogger, logs, type Logger, type LoggerProvider, type LogRecord } from '@opentelemetry/api';

/** Where @opentelemetry/api-logs (0.x, the logs API before it joined @opentelemetry/api 1.10) looks for the global provider. */
const LEGACY_LOGS_API_KEY = Symbol.for('io.opentelemetry.js.api.logs');
/** The only compatibility version api-logs 0.x has asked for. */
const LEGACY_LOGS_API_VERSION = 1;

/**
 * Makes the logs pipeline the global LoggerProvider, as upstream's NodeSDK
 * does, so code calling `logs.getLogger('x').emit(...)` directly gets its
 * records exported. Every instrumentation asks for a logger when it is
 * created, so the real provider (`build`: the logs SDK and its exporters) is
 * made at a logger's first emit() or enabled(), not at getLogger: start-up
 * stays lean. Also registered where @opentelemetry/api-logs 0.x looks, unless
 * something registered there first. Never throws.
 */
export function registerGlobalLoggerProvider(build: () => LoggerProvider | undefined): void {
  const provider: LoggerProvider = {
    getLogger: (name, version, options) => new LoggerAtFirstUse(() => build()?.getLogger(name, version, options)),
  };
  try {
    logs.setGlobalLoggerProvider(provider);
    const global = globalThis as Record<symbol, unknown>;
    if (global[LEGACY_LOGS_API_KEY] === undefined) {
      global[LEGACY_LOGS_API_KEY] = (version: number) => (version === LEGACY_LOGS_API_VERSION ? provider : undefined);
    }
  } catch {
    // The app's own records are not exported then; its log libraries' records still are.
  }
}

class LoggerAtFirstUse implements Logger {
  private logger: Logger | undefined;
  private readonly open: () => Logger | undefined;

  constructor(open: () => Logger | undefined) {
    this.open = open;
  }

  emit(logRecord: LogRecord): void {
    this.real().emit(logRecord);
  }

  enabled(options?: Parameters<Logger['enabled']>[0]): boolean {
    return this.real().enabled(options);
  }

  private real(): Logger {
    this.logger ??= this.open() ?? createNoopLogger();
    return this.logger;
  }
}

