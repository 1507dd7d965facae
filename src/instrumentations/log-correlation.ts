/**
 * pino, winston and bunyan: the loader adds trace_id/span_id/trace_flags to
 * the records logged while a span is active, and changes nothing else the app
 * holds (issue #16).
 *
 * Upstream's log sending (on unless `disableLogSending`, see configs.ts) puts a
 * sink inside the app's logger: pino's stream becomes a multistream (the
 * logger no longer writes to the stream it was given, `flush(cb)` calls back
 * before the destination is flushed, a transport's events are out of reach),
 * winston gets an extra transport, bunyan an extra stream. Bunyan's module
 * export is replaced by a constructor that only exists to add that stream
 * (loggers stop being `instanceof bunyan`), and winston's records carry the
 * active context (and so the span) under a symbol only that sink reads.
 * The subclasses below keep the correlation and drop those parts.
 *
 * OTLP log records (issue #11) are read at taps that change nothing the
 * app holds: pino's `pino_asJson` tracing channel (pino >= 9.10: the finished line, in the
 * caller's context; src/logs/pino-tap.ts), and for winston and bunyan the
 * prototype methods wrapped here for correlation (`Logger.prototype.write`,
 * `Logger.prototype._emit`), which run synchronously in the logging call.
 * Never a stream, transport or export swapped in. Each class starts the logs
 * pipeline when constructed, which the lazy loader does when the library is
 * first loaded.
 */
import { bunyanRecord, winstonRecord } from '../logs/library-records.ts';
import { emitLogRecord, logRecordsWanted, startLogRecords } from '../logs/log-record-taps.ts';
import { tapPinoLines } from '../logs/pino-tap.ts';

/** An upstream instrumentation class as the lazy loader constructs it. */
export type InstrumentationClass = new (config: Record<string, unknown>) => object;

/** What a module definition returned by init() exposes (`InstrumentationNodeModuleDefinition`). */
interface ModuleDefinition {
  name: string;
  patch?: (moduleExports: unknown, version?: string) => unknown;
  unpatch?: (moduleExports: unknown, version?: string) => void;
}

/** The members of BunyanInstrumentation 0.69 we build on. */
interface BunyanInstrumentationMembers {
  init(): ModuleDefinition[];
  _getPatchedEmit(): (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
  _wrap(target: object, name: string, wrapper: unknown): void;
  _unwrap(target: object, name: string): void;
}

/**
 * Upstream's patch of the bunyan module wraps `Logger.prototype._emit` (the
 * correlation fields) and replaces the export with a constructor and
 * `createLogger` that add the log-sending stream. Only the first part stays:
 * the app gets bunyan's own export back.
 */
export function correlationOnlyBunyan(Base: InstrumentationClass): InstrumentationClass {
  const Narrowed = class extends (Base as unknown as new (config: Record<string, unknown>) => BunyanInstrumentationMembers) {
    constructor(config: Record<string, unknown>) {
      super(config);
      startLogRecords();
    }

    override init(): ModuleDefinition[] {
      const definitions = super.init();
      for (const definition of definitions) {
        definition.patch = (moduleExports) => {
          const correlate = this._getPatchedEmit();
          this._wrap(bunyanLogger(moduleExports).prototype, '_emit', (original: (...args: unknown[]) => unknown) => withBunyanRecords(correlate(original)));
          return moduleExports;
        };
        definition.unpatch = (moduleExports) => {
          if (moduleExports !== undefined) this._unwrap(bunyanLogger(moduleExports).prototype, '_emit');
        };
      }
      return definitions;
    }
  };
  return Narrowed as unknown as InstrumentationClass;
}

/**
 * `_emit(record, noemit)` is called once per record the logger's level lets
 * through, before any stream; `noemit` asks for the string only (no record
 * logged). The record is read, never changed.
 */
function withBunyanRecords(emit: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function emitAndTap(this: unknown, ...args: unknown[]) {
    const [record, noemit] = args;
    if (noemit !== true && logRecordsWanted() && typeof record === 'object' && record !== null) {
      const fields = record as Record<string, unknown>;
      const levelName = (this as { constructor?: { nameFromLevel?: Record<number, string> } }).constructor?.nameFromLevel?.[fields.level as number];
      emitLogRecord('bunyan', bunyanRecord(fields, levelName));
    }
    return emit.apply(this, args);
  };
}

/** bunyan's export is its Logger; import-in-the-middle hands ES module importers a namespace. */
function bunyanLogger(moduleExports: unknown): { prototype: object } {
  const namespace = moduleExports as { [Symbol.toStringTag]?: string; default?: { prototype: object } };
  return namespace[Symbol.toStringTag] === 'Module' ? namespace.default! : (moduleExports as { prototype: object });
}

/** The members of WinstonInstrumentation 0.69 we build on. */
interface WinstonInstrumentationMembers {
  _handleLogCorrelation(record: object): object;
}

/**
 * Upstream's wrapper of winston's `Logger.prototype.write` also stores the
 * active context on every record under a symbol, for its OTLP transport only.
 * That puts a span on the app's record objects (seen by every format and
 * transport that copies or compares them). This one adds the correlation
 * fields only, and leaves a record that is not an object as it is.
 */
export function correlationOnlyWinston(Base: InstrumentationClass): InstrumentationClass {
  const Narrowed = class extends (Base as unknown as new (config: Record<string, unknown>) => WinstonInstrumentationMembers) {
    constructor(config: Record<string, unknown>) {
      super(config);
      startLogRecords();
    }

    _getPatchedWrite(): (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown {
      const instrumentation = this;
      return (original) =>
        function patchedWrite(this: unknown, ...args: unknown[]) {
          const record = args[0];
          if (typeof record === 'object' && record !== null) {
            instrumentation._handleLogCorrelation(record);
            if (logRecordsWanted()) tapWinstonRecord(this, record as Record<string | symbol, unknown>);
          }
          return original.apply(this, args);
        };
    }
  };
  return Narrowed as unknown as InstrumentationClass;
}

/** winston's own key for the level before any format colours `info.level` (triple-beam's LEVEL). */
const WINSTON_LEVEL = Symbol.for('level');

/**
 * Logger#write receives every record; the logger's level is applied later
 * (in its _transform), so it is checked here: only what the app's transports
 * can see becomes an OTLP record.
 */
function tapWinstonRecord(logger: unknown, info: Record<string | symbol, unknown>): void {
  const level = info[WINSTON_LEVEL] ?? info.level;
  if (typeof level !== 'string') return;
  const isLevelEnabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  if (typeof isLevelEnabled === 'function' && !isLevelEnabled.call(logger, level)) return;
  emitLogRecord('winston', winstonRecord(info as Record<string, unknown>, level));
}

/**
 * pino: upstream's instrumentation as it is (its correlation is a mixin, its
 * log sending off in configs.ts); records come from pino's own tracing
 * channel, subscribed when pino first loads.
 */
export function withPinoLogRecords(Base: InstrumentationClass): InstrumentationClass {
  return class extends (Base as unknown as new (config: Record<string, unknown>) => object) {
    constructor(config: Record<string, unknown>) {
      super(config);
      tapPinoLines();
    }
  } as unknown as InstrumentationClass;
}
