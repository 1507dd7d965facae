import diagnosticsChannel from 'node:diagnostics_channel';
import { context, trace, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { createPrivateSlot } from '../private-slot.ts';

/**
 * Express spans as @opentelemetry/instrumentation-express makes them (names,
 * attributes, http.route, parents), without changing what Express hands to the
 * app. Upstream replaces every layer's `handle` and every `next` with wrappers
 * and stores its route stack on `req`; here the layer functions, `next`, `req`
 * and `res` stay the app's own:
 * - Layer.prototype.handleRequest/handleError (router 2, Express 5) or
 *   handle_request/handle_error (Express 4) are wrapped on the prototype: a
 *   layer's step starts its span, and the next step of the same router for the
 *   same request is the moment its `next` was called.
 * - Router.prototype.handle's callback (internal: the router's exit) ends what
 *   is still open in that router; the response's finish (a diagnostics channel,
 *   no listener on `res`) ends the rest.
 * - Everything per request lives in a private field of the request (private-slot.ts).
 */

interface Layer {
  name?: string;
  path?: string;
  handle?: ((...args: unknown[]) => unknown) & { stack?: Layer[] };
  route?: { path?: string };
}

interface Router {
  stack: Layer[];
}

interface Registration {
  readonly router: object;
  /** The path given to use()/route(), as upstream's getLayerPath reads it. */
  readonly path: string | undefined;
  /** What the layer's last step derived from the request's paths, reused while they are the same. */
  route: RouteCache | undefined;
}

interface LayerMetadata {
  readonly attributes: { readonly 'express.name': string; readonly 'express.type': string };
  readonly name: string;
}

interface RouteCache {
  /** A copy of the request's paths this was derived from. */
  readonly paths: readonly string[];
  readonly constructedRoute: string;
  /** layerMetadata() for the inputs below; undefined for a router, whose name reads its stack (which may grow). */
  readonly metadata: LayerMetadata | undefined;
  readonly layerName: unknown;
  readonly layerHasPath: boolean;
}

interface OpenStep {
  readonly router: object;
  readonly pathStored: boolean;
  /** Upstream wrapped `next` only for layers it made a span for. */
  readonly traced: boolean;
  /** The span that was active when the step started: what follows its `next` runs under it again. */
  readonly parentSpan: Span | undefined;
  /** The context the step started from, and the one its layer ran in. */
  readonly parentContext: Context | undefined;
  readonly runContext: Context | undefined;
  span: Span | undefined;
}

interface RequestState {
  /** Upstream's `req.__ot_middlewares`: paths of the layers entered so far. */
  readonly paths: string[];
  readonly open: OpenStep[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (this: any, ...args: any[]) => unknown;

const HANDLE_REQUEST_NAMES = ['handleRequest', 'handle_request'] as const;
const HANDLE_ERROR_NAMES = ['handleError', 'handle_error'] as const;

export class IdentityPreservingExpressInstrumentation extends ExpressInstrumentation {
  // Private fields on the layer and the request (see private-slot.ts): a WeakMap entry per request was GC work on every request.
  private readonly registrations = createPrivateSlot<Registration>();
  private readonly requests = createPrivateSlot<RequestState>();
  private readonly patchedLayerPrototypes = new WeakSet<object>();
  private readonly restores: (() => void)[] = [];
  private finishSubscribed = false;

  override init() {
    return [
      new InstrumentationNodeModuleDefinition(
        'express',
        ['>=4.0.0 <6'],
        (moduleExports: { Router?: { prototype?: Record<string, unknown> } & Record<string, unknown> }) => {
          const Router = moduleExports?.Router;
          if (Router === undefined) return moduleExports;
          const routerProto = (typeof Router.prototype?.route === 'function' ? Router.prototype : Router) as Record<string, unknown>;
          this.patchRouter(routerProto);
          this.subscribeToResponseFinish();
          return moduleExports;
        },
        () => this.unpatchAll(),
      ),
    ];
  }

  private patchRouter(routerProto: Record<string, unknown>): void {
    const instrumentation = this;
    for (const method of ['route', 'use'] as const) {
      this.replaceMethod(routerProto, method, (original) =>
        function (this: Router, ...args: unknown[]) {
          const result = original.apply(this, args);
          const layer = this.stack?.[this.stack.length - 1];
          if (layer !== undefined) instrumentation.register(layer, this, layerPathOf(args));
          return result;
        },
      );
    }
    this.replaceMethod(routerProto, 'handle', (original) =>
      function (this: object, req: unknown, res: unknown, callback: unknown) {
        if (typeof callback !== 'function' || typeof req !== 'object' || req === null) return original.apply(this, arguments as unknown as unknown[]);
        const router = this;
        // The callback is the router's exit, never given to app code (restore() keeps req.next apart).
        const exit = function (this: unknown, ...exitArgs: unknown[]) {
          const resumed = instrumentation.closeSteps(req, router, exitArgs[0]);
          if (resumed === undefined) return (callback as AnyFunction).apply(this, exitArgs);
          return context.with(resumed, () => (callback as AnyFunction).apply(this, exitArgs));
        };
        return original.call(this, req, res, exit);
      },
    );
  }

  private register(layer: Layer, router: object, path: string | undefined): void {
    if (this.registrations.get(layer) !== undefined) return;
    this.registrations.set(layer, { router, path, route: undefined });
    this.patchLayerPrototype(Object.getPrototypeOf(layer) as Record<string, unknown> | null);
  }

  private patchLayerPrototype(proto: Record<string, unknown> | null): void {
    if (proto === null || this.patchedLayerPrototypes.has(proto)) return;
    this.patchedLayerPrototypes.add(proto);
    const instrumentation = this;
    for (const name of HANDLE_REQUEST_NAMES) {
      this.replaceMethod(proto, name, (original) =>
        function (this: Layer, req: object) {
          const registration = instrumentation.registrations.get(this);
          if (registration === undefined || typeof req !== 'object' || req === null) return original.apply(this, arguments as unknown as unknown[]);
          return instrumentation.step(this, registration, req, original, this, arguments as unknown as unknown[]);
        },
      );
    }
    for (const name of HANDLE_ERROR_NAMES) {
      this.replaceMethod(proto, name, (original) =>
        function (this: Layer, error: unknown, req: object) {
          const registration = instrumentation.registrations.get(this);
          if (registration === undefined || typeof req !== 'object' || req === null) return original.apply(this, arguments as unknown as unknown[]);
          const resumed = instrumentation.closeSteps(req, registration.router, error);
          // Upstream leaves error handlers (four parameters) untraced.
          if (resumed === undefined) return original.apply(this, arguments as unknown as unknown[]);
          return context.with(resumed, applyTo, undefined, original, this, arguments as unknown as unknown[]);
        },
      );
    }
  }

  /** One layer's turn for a request: what upstream's wrapper around layer.handle did. */
  private step(layer: Layer, registration: Registration, req: object, original: AnyFunction, self: unknown, args: unknown[]): unknown {
    const resumed = this.closeSteps(req, registration.router, undefined);
    // Upstream leaves error handlers' layers as they are.
    if (typeof layer.handle !== 'function' || layer.handle.length === 4) {
      return resumed === undefined ? original.apply(self, args) : context.with(resumed, applyTo, undefined, original, self, args);
    }
    const state = this.stateOf(req);
    const pathStored = registration.path !== undefined;
    if (pathStored) state.paths.push(registration.path!);
    const route = routeOf(registration, layer, state.paths);
    const constructedRoute = route.constructedRoute;
    const matchedRoute = actualMatchedRoute(req as { originalUrl?: string }, state.paths, constructedRoute);
    const metadata = route.metadata ?? layerMetadata(constructedRoute, layer, registration.path);
    const type = metadata.attributes['express.type'];
    const parentContext = resumed ?? context.active();
    const rpcMetadata = getRPCMetadata(parentContext);
    if (rpcMetadata?.type === RPCType.HTTP) rpcMetadata.route = matchedRoute;
    const parentSpan = trace.getSpan(parentContext);
    if (parentSpan === undefined) {
      state.open.push({ router: registration.router, pathStored, traced: false, parentSpan, parentContext: undefined, runContext: undefined, span: undefined });
      return original.apply(self, args);
    }
    // Upstream's _getSpanName, without building its argument when there is no hook to hand it to.
    const spanName = typeof this.getConfig().spanNameHook === 'function' ? (this as unknown as { _getSpanName(info: object, name: string): string })._getSpanName({ request: req, layerType: type, route: constructedRoute }, metadata.name) : metadata.name;
    const span = this.tracer.startSpan(spanName, { attributes: { [ATTR_HTTP_ROUTE]: matchedRoute, 'express.name': metadata.attributes['express.name'], 'express.type': type } }, parentContext);
    const isRouter = type === 'router';
    // A router's span ends at once: its layers run in the context it started from.
    const runContext = isRouter ? parentContext : trace.setSpan(parentContext, span);
    const open: OpenStep = { router: registration.router, pathStored, traced: true, parentSpan, parentContext, runContext, span };
    if (isRouter) {
      span.end();
      open.span = undefined;
    }
    state.open.push(open);
    return context.with(runContext, applyTo, undefined, original, self, args);
  }

  /**
   * The steps of `router` still open for `req` have called next(err): end
   * their spans as upstream's wrapped next did. Returns the context what
   * follows runs in: the active one with the finished step's parent span, as
   * upstream's wrapped next had it; undefined when nothing changes.
   */
  private closeSteps(req: object, router: object, error: unknown): Context | undefined {
    const state = this.requests.get(req);
    if (state === undefined || state.open.length === 0) return undefined;
    let resumed: Context | undefined;
    const isError = error !== undefined && error !== null && error !== 'route' && error !== 'router';
    for (let i = state.open.length - 1; i >= 0; i--) {
      const open = state.open[i]!;
      if (open.router !== router) continue;
      state.open.splice(i, 1);
      if (open.span !== undefined) {
        if (isError) {
          const [exception, message] = error instanceof Error ? [error, error.message] : [String(error), String(error)];
          open.span.recordException(exception);
          open.span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        open.span.end();
      }
      if (!((req as { route?: unknown }).route && isError) && open.pathStored) state.paths.pop();
      if (resumed === undefined && open.traced) {
        const active = context.active();
        // Still in the step's own context (next() called from its layer): that with the parent span is the one it started from.
        if (active === open.runContext && open.parentContext !== undefined) resumed = open.parentContext;
        else resumed = open.parentSpan === undefined ? active : trace.setSpan(active, open.parentSpan);
      }
    }
    return resumed;
  }

  private stateOf(req: object): RequestState {
    let state = this.requests.get(req);
    if (state === undefined) {
      state = { paths: [], open: [] };
      this.requests.set(req, state);
    }
    return state;
  }

  /** A response sent without calling next ends the steps left open (upstream listened for 'close' on res). */
  private subscribeToResponseFinish(): void {
    if (this.finishSubscribed) return;
    this.finishSubscribed = true;
    const onFinish = (message: unknown) => {
      const request = (message as { request?: object }).request;
      const state = request === undefined ? undefined : this.requests.get(request);
      if (state === undefined) return;
      for (const open of state.open.splice(0)) open.span?.end();
    };
    diagnosticsChannel.subscribe('http.server.response.finish', onFinish);
    this.restores.push(() => diagnosticsChannel.unsubscribe('http.server.response.finish', onFinish));
  }

  /** Replaces a method keeping its name and length, so the app sees the same shape. */
  private replaceMethod(target: Record<string, unknown>, name: string, wrap: (original: AnyFunction) => AnyFunction): void {
    const original = target[name];
    if (typeof original !== 'function') return;
    const wrapped = wrap(original as AnyFunction);
    Object.defineProperty(wrapped, 'name', { value: (original as AnyFunction).name, configurable: true });
    Object.defineProperty(wrapped, 'length', { value: (original as AnyFunction).length, configurable: true });
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    const hadOwn = descriptor !== undefined;
    Object.defineProperty(target, name, { value: wrapped, writable: true, enumerable: descriptor?.enumerable ?? false, configurable: true });
    this.restores.push(() => {
      if (target[name] !== wrapped) return;
      if (hadOwn) Object.defineProperty(target, name, descriptor);
      else delete target[name];
    });
  }

  private unpatchAll(): void {
    for (const restore of this.restores.splice(0).reverse()) restore();
    this.finishSubscribed = false;
  }
}

function applyTo(fn: AnyFunction, self: unknown, args: ArrayLike<unknown>): unknown {
  return fn.apply(self, args as unknown[]);
}

/** constructedRouteOf(paths) and the layer's metadata, from the layer's last step when its inputs are the same. */
function routeOf(registration: Registration, layer: Layer, paths: readonly string[]): RouteCache {
  const cached = registration.route;
  const layerHasPath = Boolean(layer.path);
  if (cached !== undefined && cached.layerName === layer.name && cached.layerHasPath === layerHasPath && samePaths(cached.paths, paths)) return cached;
  const constructedRoute = constructedRouteOf(paths);
  const metadata = layer.name === 'router' ? undefined : layerMetadata(constructedRoute, layer, registration.path);
  const route: RouteCache = { paths: paths.slice(), constructedRoute, metadata, layerName: layer.name, layerHasPath };
  registration.route = route;
  return route;
}

function samePaths(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The helpers below reproduce upstream's utils.ts (not exported by the package).

function layerPathOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (Array.isArray(first)) return first.map((arg) => layerPathSegment(arg) || '').join(',');
  return layerPathSegment(first);
}

function layerPathSegment(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof RegExp || typeof arg === 'number') return arg.toString();
  return undefined;
}

function routerPathOf(path: string, layer: Layer): string {
  const stackLayer = layer.handle?.stack?.[0];
  if (stackLayer?.route?.path) return `${path}${stackLayer.route.path}`;
  if (stackLayer?.handle?.stack) return routerPathOf(path, stackLayer);
  return path;
}

function layerMetadata(route: string, layer: Layer, layerPath: string | undefined): LayerMetadata {
  if (layer.name === 'router') {
    const routerPath = routerPathOf('', layer) || layerPath || route || '/';
    return { attributes: { 'express.name': routerPath, 'express.type': 'router' }, name: `router - ${routerPath}` };
  }
  if (layer.name === 'bound dispatch' || layer.name === 'handle') {
    return {
      attributes: { 'express.name': (route || layerPath) ?? 'request handler', 'express.type': 'request_handler' },
      name: `request handler${layer.path ? ` - ${route || layerPath}` : ''}`,
    };
  }
  return { attributes: { 'express.name': String(layer.name), 'express.type': 'middleware' }, name: `middleware - ${layer.name}` };
}

function constructedRouteOf(paths: readonly string[]): string {
  const meaningful = paths.filter((path) => path !== '/' && path !== '/*' && !/^\/\{[*][^}]*\}$/.test(path));
  if (meaningful.length === 1 && meaningful[0] === '*') return '*';
  return meaningful.join('').replace(/\/{2,}/g, '/');
}

/** `constructed` is constructedRouteOf(paths), which the caller has already. */
function actualMatchedRoute(req: { originalUrl?: string }, paths: readonly string[], constructed: string): string | undefined {
  if (paths.length === 0) return undefined;
  if (paths.every((path) => path === '/')) return req.originalUrl === '/' ? '/' : undefined;
  if (constructed === '*') return constructed;
  if (constructed.includes('/') && (constructed.includes(',') || constructed.includes('\\') || constructed.includes('*') || constructed.includes('['))) return constructed;
  const normalized = constructed.startsWith('/') ? constructed : `/${constructed}`;
  const originalUrl = req.originalUrl ?? '';
  return normalized.length > 0 && (originalUrl === normalized || originalUrl.startsWith(normalized) || normalized.includes(':') || normalized.includes('*')) ? normalized : undefined;
}
