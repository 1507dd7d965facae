import { existsSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { shareBundledPackagesWith } from '../bundled-packages.ts';
import { printLine } from '../logging.ts';
import { OWN_INSTRUMENTATIONS } from './own.ts';
import type { InstrumentationEntry } from './table.ts';

interface ModuleDefinition {
  supportedVersions: string[];
  files?: { supportedVersions: string[] }[];
}

type InstrumentationClass = new (config: Record<string, unknown>) => LoadedInstrumentation;

/**
 * A subclass whose init() reports a wider version range for the module and
 * its patched files. init() runs inside the base constructor, before enable()
 * registers the hooks, so the hooks check the widened range.
 */
function withSupportedVersions(Base: InstrumentationClass, range: string): InstrumentationClass {
  const Widened = class extends (Base as unknown as new (config: Record<string, unknown>) => { init(): unknown }) {
    override init(): unknown {
      const definitions = super.init();
      for (const definition of (Array.isArray(definitions) ? definitions : [definitions]) as ModuleDefinition[]) {
        definition.supportedVersions = [range];
        for (const file of definition.files ?? []) file.supportedVersions = [range];
      }
      return definitions;
    }
  };
  return Widened as unknown as InstrumentationClass;
}

/**
 * Our own instrumentation files stay out of the start-up bundle (they require
 * the upstream package): dist/src/start.js finds them in ./instrumentations,
 * unbundled code next to itself.
 */
function ownImplementationPath(file: string): string {
  for (const dir of [path.join(__dirname, 'instrumentations'), __dirname]) {
    for (const extension of ['.js', '.ts']) {
      const candidate = path.join(dir, `${file}${extension}`);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`${file}.js not found next to the loader`);
}

/** Builds the instrumentation's config (hooks, options) when it is first loaded. */
export type ConfigFor = (entry: InstrumentationEntry) => Record<string, unknown>;

interface LoadedInstrumentation {
  disable?: () => void;
}

type RequireFunction = (this: unknown, id: string) => unknown;

/**
 * Loads each instrumentation the first time one of its target modules is
 * required, imported or (for undici) global fetch is touched. Until then the
 * only cost is a string lookup per require/resolve of a bare specifier.
 */
export class LazyInstrumentationLoader {
  private readonly pendingByModule = new Map<string, InstrumentationEntry>();
  private readonly loaded: LoadedInstrumentation[] = [];
  private readonly configFor: ConfigFor;

  constructor(entries: readonly InstrumentationEntry[], configFor: ConfigFor) {
    this.configFor = configFor;
    for (const entry of entries) {
      for (const moduleName of entry.modules) this.pendingByModule.set(moduleName, entry);
    }
    for (const entry of entries) if (entry.globalFetch) this.trapGlobalFetch(entry);
    // No bare module name to wait for: the Lambda runtime loads the handler by path.
    for (const entry of entries) if (entry.lambdaHandler) this.load(entry);
  }

  /** Module names the ESM loader must be ready to wrap (import-in-the-middle's include list). */
  targetModules(): string[] {
    return [...this.pendingByModule].filter(([, entry]) => entry.own !== true).map(([name]) => name);
  }

  /** Files inside target packages that must be wrapped too, as URL patterns. */
  targetFilePatterns(): RegExp[] {
    const patterns: RegExp[] = [];
    for (const entry of new Set(this.pendingByModule.values())) {
      for (const file of entry.esmInternalFiles ?? []) {
        const escaped = `${entry.modules[0]}/${file}`.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
        patterns.push(new RegExp(`/node_modules/${escaped}$`));
      }
    }
    return patterns;
  }

  /** The entry a bare specifier belongs to, if its instrumentation is still unloaded. */
  private match(specifier: string): InstrumentationEntry | undefined {
    if (this.pendingByModule.size === 0) return undefined;
    const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
    const direct = this.pendingByModule.get(bare);
    if (direct !== undefined) return direct;
    // 'pg/lib/client' or '@nestjs/core/...' belong to their package.
    const slash = bare.indexOf('/', bare.startsWith('@') ? bare.indexOf('/') + 1 : 0);
    return slash === -1 ? undefined : this.pendingByModule.get(bare.slice(0, slash));
  }

  /** Loads the instrumentation for a specifier; true when something was loaded. */
  loadFor(specifier: string): boolean {
    const entry = this.match(specifier);
    if (entry === undefined) return false;
    this.load(entry);
    return true;
  }

  load(entry: InstrumentationEntry): void {
    // Forget the entry first: loading the package requires modules of its own,
    // some of which (http) may be targets of this very entry.
    for (const moduleName of entry.modules) this.pendingByModule.delete(moduleName);
    try {
      const exportName = entry.implementation?.exportName ?? entry.exportName;
      const source = entry.implementation === undefined ? entry.packageName : ownImplementationPath(entry.implementation.file);
      if (entry.own !== true) shareBundledPackagesWith(entry.packageName);
      const exported = entry.own === true
        ? (OWN_INSTRUMENTATIONS as unknown as Record<string, InstrumentationClass>)
        : // eslint-disable-next-line @typescript-eslint/no-require-imports
          (require(source) as Record<string, InstrumentationClass>);
      const InstrumentationClass = exported[exportName];
      if (typeof InstrumentationClass !== 'function') throw new Error(`${source} has no export ${exportName}`);
      const Narrowed = entry.narrow === undefined ? InstrumentationClass : (entry.narrow(InstrumentationClass) as InstrumentationClass);
      const Widened = entry.supportedVersions === undefined ? Narrowed : withSupportedVersions(Narrowed, entry.supportedVersions);
      this.loaded.push(new Widened(this.configFor(entry)));
    } catch (error) {
      printLine(`instrumentation ${entry.name} could not be loaded (${(error as Error).message}); the app runs without it`);
    }
  }

  /** For Node versions where ESM hooks cannot run lazily: load everything now. */
  loadAll(): void {
    for (const entry of new Set(this.pendingByModule.values())) this.load(entry);
  }

  /**
   * CJS: intercept require() of a target. After loading the instrumentation we
   * call require again through Module.prototype.require, which now starts with
   * require-in-the-middle's hook, so the module is patched on this very first load.
   */
  hookRequire(): void {
    const proto = Module.prototype as unknown as { require: RequireFunction };
    const originalRequire = proto.require;
    const loader = this;
    proto.require = function lazyInstrumentationRequire(this: unknown, id: string): unknown {
      if (typeof id === 'string' && loader.loadFor(id)) {
        return proto.require.call(this, id);
      }
      // eslint-disable-next-line prefer-rest-params
      return originalRequire.apply(this, arguments as unknown as [string]);
    };
  }

  /**
   * ESM: a synchronous resolve hook (module.registerHooks, Node >= 22.15) that
   * loads the instrumentation before import-in-the-middle's load hook wraps the
   * module, so the new Hook() sees it.
   */
  hookResolve(): void {
    const registerHooks = (Module as unknown as { registerHooks?: (hooks: object) => void }).registerHooks;
    if (typeof registerHooks !== 'function') return;
    const loader = this;
    registerHooks({
      resolve(specifier: string, context: unknown, nextResolve: (specifier: string, context: unknown) => unknown) {
        if (typeof specifier === 'string' && !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('file:')) {
          loader.loadFor(specifier);
        }
        return nextResolve(specifier, context);
      },
    });
  }

  /** undici's instrumentation listens on diagnostics channels: load it when fetch is first reached for. */
  private trapGlobalFetch(entry: InstrumentationEntry): void {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
    if (descriptor === undefined || !descriptor.configurable) {
      this.load(entry);
      return;
    }
    const loader = this;
    const restore = (value: unknown) => {
      Object.defineProperty(globalThis, 'fetch', { value, writable: true, enumerable: descriptor.enumerable, configurable: true });
    };
    Object.defineProperty(globalThis, 'fetch', {
      configurable: true,
      enumerable: descriptor.enumerable,
      get() {
        const value = 'value' in descriptor ? descriptor.value : descriptor.get?.call(globalThis);
        restore(value);
        if (loader.pendingByModule.get(entry.modules[0] ?? '') === entry) loader.load(entry);
        return value;
      },
      set(value: unknown) {
        restore(value);
      },
    });
  }

  disableAll(): void {
    for (const instrumentation of this.loaded) {
      try {
        instrumentation.disable?.();
      } catch {
        // Unpatching is best effort at shutdown.
      }
    }
  }
}
