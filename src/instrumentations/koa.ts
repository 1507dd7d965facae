import { context as otelContext, diag, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

type Middleware = ((context: KoaContext, next: () => Promise<unknown>) => unknown) & { router?: unknown };
interface KoaContext {
  _matchedRoute?: unknown;
  _matchedRouteName?: string;
}

interface RouterLayer {
  path?: string;
  stack: Middleware[];
}
interface KoaApp {
  middleware: unknown;
}
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** The base with the members we use visible (upstream declares its own private). */
const KoaBase = KoaInstrumentation as unknown as new (config?: Record<string, unknown>) => {
  readonly tracer: import('@opentelemetry/api').Tracer;
  getConfig(): Record<string, unknown>;
  init(): unknown;
};

/**
 * instrumentation-koa's spans (names, attributes, parents) without touching
 * what the app registered. Upstream wraps `use`, so app.middleware holds its
 * async stand-ins, @koa/router's layer stacks are rewritten in place, a symbol
 * is set on each middleware, and `app.use(null)` fails on `null.router` before
 * Koa's own check. Here `use` stays Koa's; the stand-ins exist only where Koa
 * composes them:
 * - Application.prototype.callback, which composes app.middleware once, sees
 *   a live view of the array that hands out the traced stand-ins (compose
 *   reads the array at each request, so a later app.use still counts);
 * - a @koa/router dispatch builds its chain from the layers' stacks at each
 *   request: while it does, and only then, the stacks read as traced.
 */
export class KoaComposeTracingInstrumentation extends KoaBase {
  private readonly tracedByLayer = new WeakMap<object, Middleware>();
  private readonly tracedStacks = new WeakMap<RouterLayer, { source: Middleware[]; length: number; traced: Middleware[] }>();

  override init() {
    return new InstrumentationNodeModuleDefinition(
      'koa',
      ['>=2.0.0 <4'],
      (module: Record<string | symbol, unknown>) => {
        const Application = (module[Symbol.toStringTag] === 'Module' ? module.default : module) as { prototype?: Record<string, unknown> } | undefined;
        if (typeof Application?.prototype?.callback === 'function') this.patchCallback(Application.prototype);
        return module;
      },
      () => this.restore?.(),
    );
  }

  private restore: (() => void) | undefined;

  private patchCallback(proto: Record<string, unknown>): void {
    const original = proto.callback as AnyFunction;
    const instrumentation = this;
    const callback = function (this: KoaApp) {
      const middleware = this.middleware;
      if (!Array.isArray(middleware) || !Object.hasOwn(this, 'middleware')) return original.apply(this, arguments as unknown as unknown[]);
      this.middleware = instrumentation.tracedView(middleware as Middleware[]);
      try {
        return original.apply(this, arguments as unknown as unknown[]);
      } finally {
        this.middleware = middleware;
      }
    };
    Object.defineProperty(callback, 'name', { value: original.name, configurable: true });
    Object.defineProperty(callback, 'length', { value: original.length, configurable: true });
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'callback')!;
    Object.defineProperty(proto, 'callback', { ...descriptor, value: callback });
    this.restore = () => {
      if (proto.callback === callback) Object.defineProperty(proto, 'callback', descriptor);
    };
  }

  /** The app's array, read through: element i is the traced stand-in of middleware[i]. */
  private tracedView(middleware: Middleware[]): Middleware[] {
    return new Proxy(middleware, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof property !== 'string' || typeof value !== 'function' || String(Number(property)) !== property) return value;
        return this.tracedMiddleware(value as Middleware);
      },
    });
  }

  private tracedMiddleware(layer: Middleware): Middleware {
    let traced = this.tracedByLayer.get(layer);
    if (traced === undefined) {
      traced = layer.router ? this.tracedRouterDispatch(layer) : this.traceLayer(layer, false);
      this.tracedByLayer.set(layer, traced);
    }
    return traced;
  }

  /** @koa/router's dispatch, with its route layers' stacks reading as traced while it builds the chain. */
  private tracedRouterDispatch(dispatch: Middleware): Middleware {
    const instrumentation = this;
    const router = dispatch.router as { stack?: RouterLayer[] };
    const traced = function (this: unknown, context: KoaContext, next: () => Promise<unknown>) {
      const layers = Array.isArray(router?.stack) ? router.stack : [];
      const sources = layers.map((layer) => layer.stack);
      for (const layer of layers) if (Array.isArray(layer.stack)) layer.stack = instrumentation.tracedStack(layer);
      try {
        return dispatch.call(this, context, next);
      } finally {
        for (let i = 0; i < layers.length; i++) layers[i]!.stack = sources[i]!;
      }
    } as Middleware;
    return traced;
  }

  private tracedStack(layer: RouterLayer): Middleware[] {
    const source = layer.stack;
    const cached = this.tracedStacks.get(layer);
    if (cached !== undefined && cached.source === source && cached.length === source.length && cached.traced.every((fn, i) => this.tracedByLayer.get(source[i]!) === fn)) return cached.traced;
    const traced = source.map((fn) => {
      let wrapper = this.tracedByLayer.get(fn);
      if (wrapper === undefined) {
        wrapper = this.traceLayer(fn, true, layer.path);
        this.tracedByLayer.set(fn, wrapper);
      }
      return wrapper;
    });
    this.tracedStacks.set(layer, { source, length: source.length, traced });
    return traced;
  }

  /** Upstream's _patchLayer: a span per middleware call, when there is a parent span. */
  private traceLayer(layer: Middleware, isRouter: boolean, layerPath?: string): Middleware {
    if (typeof layer !== 'function') return layer;
    const layerType = isRouter ? 'router' : 'middleware';
    const ignoredTypes = (this.getConfig() as { ignoreLayersType?: string[] }).ignoreLayersType;
    if (Array.isArray(ignoredTypes) && ignoredTypes.includes(layerType)) return layer;
    const constructorName = (layer as { constructor?: { name?: string } }).constructor?.name;
    if (constructorName === 'GeneratorFunction' || constructorName === 'AsyncGeneratorFunction') {
      diag.debug('ignoring generator-based Koa middleware layer');
      return layer;
    }
    const tracer = this.tracer;
    // A middleware's name and attributes depend on its name only: made again only if that changes.
    let lastMiddleware: { layerName: string; metadata: Metadata } | undefined;
    const metadataOf = (context: KoaContext): Metadata => {
      if (isRouter) return middlewareMetadata(context, layer, isRouter, layerPath);
      if (lastMiddleware === undefined || lastMiddleware.layerName !== layer.name) lastMiddleware = { layerName: layer.name, metadata: middlewareMetadata(context, layer, isRouter, layerPath) };
      return lastMiddleware.metadata;
    };
    const traced = async (context: KoaContext, next: () => Promise<unknown>) => {
      if (trace.getSpan(otelContext.active()) === undefined) return layer(context, next);
      const metadata = metadataOf(context);
      // The SDK reads the attributes given to startSpan and keeps a sanitized copy: one object serves every span.
      const span = tracer.startSpan(metadata.name, { attributes: metadata.attributes });
      const rpcMetadata = getRPCMetadata(otelContext.active());
      if (rpcMetadata?.type === RPCType.HTTP && context._matchedRoute) rpcMetadata.route = String(context._matchedRoute);
      return otelContext.with(trace.setSpan(otelContext.active(), span), async () => {
        try {
          return await layer(context, next);
        } catch (error) {
          span.recordException(error as Error);
          throw error;
        } finally {
          span.end();
        }
      });
    };
    return traced as Middleware;
  }
}

interface Metadata {
  readonly name: string;
  readonly attributes: Record<string, string | undefined>;
}

/** Upstream's getMiddlewareMetadata (not exported by the package). */
function middlewareMetadata(context: KoaContext, layer: Middleware, isRouter: boolean, layerPath?: string): Metadata {
  if (isRouter) {
    return {
      attributes: { 'koa.name': layerPath?.toString(), 'koa.type': 'router', [ATTR_HTTP_ROUTE]: layerPath?.toString() },
      name: context._matchedRouteName || `router - ${layerPath}`,
    };
  }
  const name = layer.name || 'anonymous';
  return { attributes: { 'koa.name': name, 'koa.type': 'middleware' }, name: `middleware - ${name}` };
}
