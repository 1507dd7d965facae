import type { Logger } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { LoggerProvider, LogRecordExporter, LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { Config } from '../config/index.ts';
import { ExportHealth, LOG_RECORDS } from '../export/export-health.ts';
import { LazySpanExporter } from '../export/lazy-exporter.ts';
import type { ExitFlusher } from '../lifecycle/exit-flush.ts';
import type { Flushable } from '../lifecycle/shutdown.ts';
import { printLine } from '../logging.ts';
import { BatchingLogRecordProcessor } from './batching-log-record-processor.ts';
import { ConsoleLogRecordProcessor } from './console-log-processor.ts';
import { otlpLogsExitFlusher } from './exit-flush.ts';
import { connectLogRecordSink, type LogLibrary, type TappedLogRecord } from './log-record-taps.ts';
import { registerGlobalLoggerProvider } from './global-logger-provider.ts';
import { createOtlpLogExporter } from './otlp-log-exporter.ts';

/** Beyond OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, the time a transport gets to report its own timeout (as for spans). */
const ANSWER_MARGIN_MS = 2_000;

/** Upstream's scope names, so queries on the instrumentation scope keep working after the switch. */
const SCOPE_NAMES: Readonly<Record<LogLibrary, string>> = {
  pino: '@opentelemetry/instrumentation-pino',
  winston: '@opentelemetry/instrumentation-winston',
  bunyan: '@opentelemetry/instrumentation-bunyan',
};

export interface LogsPipeline {
  /** Flushed and shut down with the spans at SIGTERM, SIGINT and beforeExit; a no-op until a log library loads. */
  readonly provider: Flushable;
  /** For the one 'exit' listener (src/lifecycle/exit-flush.ts). */
  readonly exitFlushers: ExitFlusher[];
}

/**
 * The logs signal for OTEL_LOGS_EXPORTER: connects the log libraries' taps to
 * a LoggerProvider that is built, with @opentelemetry/sdk-logs and the
 * exporters, only when a log library is first loaded (start()). Until then it
 * costs a closure; a process that never loads pino, winston or bunyan, nor
 * calls the logs API's getLogger, never loads the logs SDK.
 */
export function createLogsPipeline(config: Config, resource: Resource, onRecord: () => void): LogsPipeline {
  const logs = config.logs;
  const health = new ExportHealth(`${new URL(logs.otlp.url).host} (OTLP ${logs.otlp.protocol})`, logs.batch.maxQueueSize, Date.now, LOG_RECORDS);
  let provider: LoggerProvider | undefined;
  let otlpProcessor: BatchingLogRecordProcessor | undefined;
  let unavailable = false;
  const loggers = new Map<LogLibrary, Logger>();

  const start = (): LoggerProvider | undefined => {
    if (provider !== undefined || unavailable) return provider;
    try {
      const { LoggerProvider: Provider } = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
      const processors: LogRecordProcessor[] = logs.exporters.map((name) => {
        if (name === 'console') return new ConsoleLogRecordProcessor();
        const exporter = new LazySpanExporter<ReadWriteLogRecord, LogRecordExporter>(
          `OTLP ${logs.otlp.protocol} logs`,
          () => createOtlpLogExporter(logs.otlp),
          health,
          logs.otlp.timeoutMs + ANSWER_MARGIN_MS,
        );
        otlpProcessor = new BatchingLogRecordProcessor(exporter, logs.batch, health);
        return otlpProcessor;
      });
      const counter: LogRecordProcessor = { onEmit: onRecord, forceFlush: async () => {}, shutdown: async () => {} };
      provider = new Provider({ resource, logRecordLimits: { ...logs.limits }, processors: [counter, ...processors] });
    } catch (error) {
      unavailable = true;
      printLine(`log records are not exported: the logs SDK could not be loaded (${(error as Error).message})`);
    }
    return provider;
  };

  const loggerFor = (library: LogLibrary): Logger | undefined => {
    let logger = loggers.get(library);
    if (logger === undefined) {
      logger = start()?.getLogger(SCOPE_NAMES[library]);
      if (logger !== undefined) loggers.set(library, logger);
    }
    return logger;
  };

  connectLogRecordSink({
    start: () => void start(),
    emit(library: LogLibrary, record: TappedLogRecord) {
      // No context given: the SDK takes the active one, the caller's, for trace_id/span_id.
      loggerFor(library)?.emit({ ...record, timestamp: record.timestamp });
    },
  });

  // Code using the logs API directly: the provider is built at its first getLogger, as at a log library's first load.
  registerGlobalLoggerProvider(start);

  const exitFlushers: ExitFlusher[] = [];
  if (logs.exporters.includes('otlp')) exitFlushers.push(otlpLogsExitFlusher(() => otlpProcessor?.takeUnexported() ?? [], logs.otlp, config.shutdownTimeoutMs));
  return {
    provider: {
      forceFlush: async () => {
        await provider?.forceFlush();
      },
      shutdown: async () => {
        await provider?.shutdown();
      },
    },
    exitFlushers,
  };
}
