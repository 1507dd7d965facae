import { context as otelContext, diag, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

type Middleware = ((context: KoaContext, next: () => Promise<unknown>) => unknown) & { router?: unknown };
interface KoaContext {
  _matchedRoute?: unknown;
  _matchedRouteName?: string;
}

/**
 * instrumentation-koa with Koa's own behaviour kept where the app can see it:
 * - app.use(x) with x not a function reaches Koa untouched, which throws its
 *   own "middleware must be a function!" (upstream read x.router and set a
 *   symbol on x first, so app.use(null) threw a TypeError about 'router');
 * - a middleware is remembered as traced in a WeakSet rather than by a symbol
 *   property set on the app's function;
 * - the traced stand-in keeps the middleware's name and length.
 * Spans are upstream's: same names, attributes, parents.
 */
/** The base with the members we replace visible (upstream declares them private). */
const KoaBase = KoaInstrumentation as unknown as new (config?: Record<string, unknown>) => {
  readonly tracer: import('@opentelemetry/api').Tracer;
  getConfig(): Record<string, unknown>;
};

export class KoaUseKeepingInstrumentation extends KoaBase {
  private readonly tracedLayers = new WeakSet<object>();

  protected _getKoaUsePatch(original: (this: unknown, ...args: unknown[]) => unknown) {
    const instrumentation = this as unknown as {
      _patchRouterDispatch(layer: Middleware): Middleware;
      _patchLayer(layer: Middleware, isRouter: boolean, path?: string): Middleware;
    };
    return function use(this: unknown, middleware: unknown) {
      if (typeof middleware !== 'function') return original.apply(this, arguments as unknown as unknown[]);
      const args = Array.prototype.slice.call(arguments) as unknown[];
      const layer = middleware as Middleware;
      args[0] = layer.router ? instrumentation._patchRouterDispatch(layer) : instrumentation._patchLayer(layer, false);
      return original.apply(this, args);
    };
  }

  protected _patchLayer(layer: Middleware, isRouter: boolean, layerPath?: string): Middleware {
    const layerType = isRouter ? 'router' : 'middleware';
    const ignoredTypes = (this.getConfig() as { ignoreLayersType?: string[] }).ignoreLayersType;
    if (typeof layer !== 'function' || this.tracedLayers.has(layer) || (Array.isArray(ignoredTypes) && ignoredTypes.includes(layerType))) return layer;
    const constructorName = (layer as { constructor?: { name?: string } }).constructor?.name;
    if (constructorName === 'GeneratorFunction' || constructorName === 'AsyncGeneratorFunction') {
      diag.debug('ignoring generator-based Koa middleware layer');
      return layer;
    }
    this.tracedLayers.add(layer);
    const tracer = this.tracer;
    const traced = async (context: KoaContext, next: () => Promise<unknown>) => {
      if (trace.getSpan(otelContext.active()) === undefined) return layer(context, next);
      const metadata = middlewareMetadata(context, layer, isRouter, layerPath);
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
    Object.defineProperty(traced, 'name', { value: layer.name, configurable: true });
    Object.defineProperty(traced, 'length', { value: layer.length, configurable: true });
    return traced as Middleware;
  }
}

/** Upstream's getMiddlewareMetadata (not exported by the package). */
function middlewareMetadata(context: KoaContext, layer: Middleware, isRouter: boolean, layerPath?: string): { name: string; attributes: Record<string, string | undefined> } {
  if (isRouter) {
    return {
      attributes: { 'koa.name': layerPath?.toString(), 'koa.type': 'router', [ATTR_HTTP_ROUTE]: layerPath?.toString() },
      name: context._matchedRouteName || `router - ${layerPath}`,
    };
  }
  const name = layer.name || 'anonymous';
  return { attributes: { 'koa.name': name, 'koa.type': 'middleware' }, name: `middleware - ${name}` };
}
