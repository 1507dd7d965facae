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
 * OTLP log records (issue #11) are to be read at taps that change nothing the
 * app holds: pino's `pino_asJson` tracing channel (pino >= 9.10: the finished
 * line, in the caller's context), and for winston and bunyan the prototype methods wrapped
 * here for correlation (`Logger.prototype.write`, `Logger.prototype._emit`).
 * Never a stream, transport or export swapped in.
 */

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
    override init(): ModuleDefinition[] {
      const definitions = super.init();
      for (const definition of definitions) {
        definition.patch = (moduleExports) => {
          this._wrap(bunyanLogger(moduleExports).prototype, '_emit', this._getPatchedEmit());
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
    _getPatchedWrite(): (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown {
      const instrumentation = this;
      return (original) =>
        function patchedWrite(this: unknown, ...args: unknown[]) {
          const record = args[0];
          if (typeof record === 'object' && record !== null) instrumentation._handleLogCorrelation(record);
          return original.apply(this, args);
        };
    }
  };
  return Narrowed as unknown as InstrumentationClass;
}
