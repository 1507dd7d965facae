import diagnosticsChannel from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

/**
 * Fastify 5, traced from the `fastify.request.handler` tracing channel that
 * Fastify publishes itself (lib/handle-request.js, lib/wrap-thenable.js).
 * Nothing of the app is wrapped or decorated: no plugin, no hook, no route
 * option is added or rewritten, so handlers and hooks keep their identity,
 * arity, `this` and async-ness, thrown values reach Fastify as thrown, and
 * the plugin tree is the app's.
 *
 * Per request: the route goes to the http SERVER span (its name and
 * `http.route`), and one INTERNAL span `handler - <route>` covers the route
 * handler, active while it runs, so the handler's own calls are its children.
 * Spans live in a WeakMap keyed by Fastify's store object, never on request or
 * reply. There are no spans per hook: hooks publish nothing and wrapping them
 * is what changed what Fastify hands to the app.
 *
 * Having any subscriber changes two things in Fastify 5.12 that this undoes
 * (see `undoSubscriberEffects`): the store is put on the reply under
 * `Symbol(fastify.diagnosticsStore)`, and on an error the reply's status is
 * set before the app's error handler runs (lib/handle-request.js
 * `setErrorStatusCode` "so subscribers see the correct value").
 */
export class FastifyDiagnosticsInstrumentation {
  private readonly channel = diagnosticsChannel.tracingChannel('fastify.request.handler');
  private readonly tracer: Tracer;
  private readonly handlerSpans = new WeakMap<object, HandlerState>();
  private readonly subscribers: diagnosticsChannel.TracingChannelSubscribers<object>;
  private readonly storage: AsyncLocalStorage<Context> | undefined;

  constructor(_config: Record<string, unknown> = {}) {
    this.tracer = trace.getTracer('@acme/otel-register/fastify');
    this.subscribers = {
      start: (message) => this.guard(() => this.onStart(message as HandlerStore)),
      end: (message) => this.guard(() => this.onEnd(message as HandlerStore)),
      asyncStart: (message) => this.guard(() => this.onAsyncStart(message as HandlerStore)),
      asyncEnd: () => undefined,
      error: (message) => this.guard(() => this.onError(message as HandlerStore)),
    };
    this.channel.subscribe(this.subscribers);
    // The handler runs inside runStores: binding the context manager's store
    // makes the handler span the active span for the handler's own calls.
    this.storage = contextStorage();
    if (this.storage !== undefined) this.channel.start.bindStore(this.storage, (message) => this.startSpan(message as HandlerStore));
  }

  disable(): void {
    this.channel.unsubscribe(this.subscribers);
    if (this.storage !== undefined) this.channel.start.unbindStore(this.storage);
  }

  /** A subscriber that throws would crash the app (Node rethrows it on the next tick). */
  private guard(action: () => void): void {
    try {
      action();
    } catch {
      // Tracing is best effort; the request goes on untouched.
    }
  }

  /** The context the handler runs in; called by runStores before `start` is published. */
  private startSpan(store: HandlerStore): Context {
    const parent = context.active();
    try {
      const route = typeof store.route?.url === 'string' ? store.route.url : undefined;
      const method = typeof store.route?.method === 'string' ? store.route.method : undefined;
      const rpcMetadata = getRPCMetadata(parent);
      if (route !== undefined && rpcMetadata?.type === RPCType.HTTP) rpcMetadata.route = route;
      const attributes: Record<string, string> = { 'fastify.type': 'request-handler' };
      if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
      if (method !== undefined) attributes[ATTR_HTTP_REQUEST_METHOD] = method;
      const span = this.tracer.startSpan(`handler - ${route ?? 'unknown route'}`, { kind: SpanKind.INTERNAL, attributes }, parent);
      this.handlerSpans.set(store, { span, statusBeforeError: undefined });
      return trace.setSpan(parent, span);
    } catch {
      return parent;
    }
  }

  private onStart(store: HandlerStore): void {
    if (this.storage === undefined) this.startSpan(store);
    // When the app observes the channel too, what Fastify does for subscribers is what it gets without us.
    if (!this.othersObserve()) undoSubscriberEffects(store, this.handlerSpans.get(store));
  }

  /** Whether anyone but us subscribes to or binds a store on the channel (Node keeps both lists on each channel). */
  private othersObserve(): boolean {
    for (const name of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) {
      const channel = this.channel[name] as unknown as { _subscribers?: unknown[]; _stores?: Map<unknown, unknown> };
      if (!Array.isArray(channel._subscribers)) return true;
      if (channel._subscribers.length > 1) return true;
      const ownStores = name === 'start' && this.storage !== undefined ? 1 : 0;
      if ((channel._stores?.size ?? 0) > ownStores) return true;
    }
    return false;
  }

  private onEnd(store: HandlerStore): void {
    // An async handler's span ends when its promise settles (asyncStart),
    // which Fastify does not publish for a hijacked reply.
    if (store.async === true && !isHijacked(store.reply)) return;
    this.endSpan(store);
  }

  private onAsyncStart(store: HandlerStore): void {
    this.endSpan(store);
  }

  private onError(store: HandlerStore): void {
    const state = this.handlerSpans.get(store);
    if (state === undefined) return;
    restoreStatusBeforeError(store, state);
    recordThrown(state.span, store.error);
  }

  private endSpan(store: HandlerStore): void {
    const state = this.handlerSpans.get(store);
    if (state === undefined) return;
    this.handlerSpans.delete(store);
    state.span.end();
  }
}

interface HandlerStore {
  request?: unknown;
  reply?: Record<PropertyKey, unknown> & { raw?: { statusCode?: number } };
  async?: boolean;
  error?: unknown;
  route?: { url?: unknown; method?: unknown };
}

interface HandlerState {
  span: Span;
  /** The reply's status and status flag when Fastify was handed the error, before it set them for subscribers. */
  statusBeforeError: { statusCode: number | undefined; hasStatusCode: unknown } | undefined;
}

/** The AsyncLocalStorage behind the global context manager (upstream's AsyncLocalStorageContextManager keeps it here). */
function contextStorage(): AsyncLocalStorage<Context> | undefined {
  const manager = (context as unknown as { _getContextManager?: () => unknown })._getContextManager?.();
  const storage = (manager as { _asyncLocalStorage?: unknown } | undefined)?._asyncLocalStorage;
  return typeof (storage as AsyncLocalStorage<Context> | undefined)?.run === 'function' ? (storage as AsyncLocalStorage<Context>) : undefined;
}

const DIAGNOSTICS_STORE = 'fastify.diagnosticsStore';
const HIJACKED = 'fastify.reply.hijacked';
const HAS_STATUS_CODE = 'fastify.reply.hasStatusCode';

/** The symbol found for each description: Fastify's are module constants, the same on every reply. */
const foundSymbols = new Map<string, symbol>();

/**
 * Fastify's own symbols, found by their descriptions on the reply (Fastify
 * does not export them). Once found (and the only own symbol of that
 * description), it is checked as an own key of the next replies instead of
 * listing each reply's symbols on every request.
 */
function replySymbol(reply: object, description: string): symbol | undefined {
  const known = foundSymbols.get(description);
  if (known !== undefined && Object.hasOwn(reply, known)) return known;
  const matching = Object.getOwnPropertySymbols(reply).filter((symbol) => symbol.description === description);
  if (matching.length === 1) foundSymbols.set(description, matching[0]!);
  return matching[0];
}

function isHijacked(reply: HandlerStore['reply']): boolean {
  if (typeof reply !== 'object' || reply === null) return false;
  const hijacked = replySymbol(reply, HIJACKED);
  return hijacked !== undefined && reply[hijacked] === true;
}

/**
 * Without subscribers Fastify neither keeps the store on the reply nor sets
 * the status before the app's error handler. The store goes (error-handler.js
 * then sees no store, as without subscribers), and `store.error` becomes an
 * accessor that notes the reply's status at the moment Fastify is handed the
 * error, just before it calls setErrorStatusCode.
 */
function undoSubscriberEffects(store: HandlerStore, state: HandlerState | undefined): void {
  const reply = store.reply;
  if (typeof reply !== 'object' || reply === null) return;
  const storeSymbol = replySymbol(reply, DIAGNOSTICS_STORE);
  if (storeSymbol !== undefined && reply[storeSymbol] === store) delete reply[storeSymbol];
  if (state === undefined) return;
  let error: unknown;
  Object.defineProperty(store, 'error', {
    configurable: true,
    enumerable: true,
    get: () => error,
    set: (value: unknown) => {
      error = value;
      const hasStatusSymbol = replySymbol(reply, HAS_STATUS_CODE);
      state.statusBeforeError = { statusCode: reply.raw?.statusCode, hasStatusCode: hasStatusSymbol === undefined ? undefined : reply[hasStatusSymbol] };
    },
  });
}

/** After the error is recorded (with the status Fastify would send by default), the reply gets back the status it had. */
function restoreStatusBeforeError(store: HandlerStore, state: HandlerState): void {
  const before = state.statusBeforeError;
  const reply = store.reply;
  state.statusBeforeError = undefined;
  if (before === undefined || reply === undefined || reply.raw === undefined) return;
  const hasStatusSymbol = replySymbol(reply, HAS_STATUS_CODE);
  if (hasStatusSymbol === undefined || typeof before.statusCode !== 'number') return;
  reply.raw.statusCode = before.statusCode;
  reply[hasStatusSymbol] = before.hasStatusCode;
}

/** Whatever was thrown (null, a string, a Symbol, an Error with a throwing getter) is described without touching it further. */
function recordThrown(span: Span, thrown: unknown): void {
  const message = describeThrown(thrown);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (thrown instanceof Error) span.recordException(thrown);
  else span.recordException({ name: typeof thrown, message });
}

function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return String(thrown.message);
    if (typeof thrown === 'symbol') return thrown.toString();
    return String(thrown);
  } catch {
    return 'unprintable thrown value';
  }
}
