import { EventEmitter, errorMonitor } from 'node:events';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { Attributes, Span } from '@opentelemetry/api';
import { traceClientRequest, type ClientInstrumentation } from './http-outgoing.ts';
import { createIncomingRequestFunction, loadUpstreamHttpUtils, type IncomingInstrumentation } from './http-incoming.ts';

type Listener = (...args: unknown[]) => void;
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => unknown;
/** configs.ts passes our context manager's observeEmit under this key. */
export const OBSERVE_EMIT_OPTION = 'acmeObserveEmit';

/** The base with the member we extend visible (upstream declares it private). */
const HttpBase = HttpInstrumentation as unknown as new (config?: Record<string, unknown>) => {
  getConfig(): Record<string, unknown>;
  _incomingRequestFunction(component: string, original: Emit): Emit;
  _traceClientRequest(request: EventEmitter, ...rest: unknown[]): unknown;
};
type ObserveEmit = (emitter: EventEmitter, event: string | symbol, listener: Listener) => void;

/**
 * Runs `register` with `emitter.on(event, …)` for the given events turned into
 * observers; other events and other methods reach the emitter as usual.
 * The own `on` exists only while `register` runs (our code, never the app's).
 */
function withListenersAsObservers<T>(emitter: EventEmitter, events: readonly (string | symbol)[], observeEmit: ObserveEmit, register: () => T): T {
  if (Object.hasOwn(emitter, 'on')) return register();
  const inheritedOn = emitter.on;
  Object.defineProperty(emitter, 'on', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function on(this: EventEmitter, name: string | symbol, listener: Listener) {
      if (this !== emitter || !events.includes(name)) return inheritedOn.call(this, name, listener);
      observeEmit(emitter, name, listener);
      return this;
    },
  });
  try {
    return register();
  } finally {
    delete (emitter as unknown as Record<string, unknown>).on;
  }
}

/** Runs `run` with `emitter.listenerCount(event)` one higher, as if our observer were a listener. */
function withOneMoreListener<T>(emitter: EventEmitter, event: string | symbol, run: () => T): T {
  if (Object.hasOwn(emitter, 'listenerCount')) return run();
  const inherited = emitter.listenerCount;
  Object.defineProperty(emitter, 'listenerCount', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function listenerCount(this: EventEmitter, name: string | symbol, ...rest: unknown[]) {
      const count = (inherited as (this: EventEmitter, ...args: unknown[]) => number).call(this, name, ...rest);
      return this === emitter && name === event ? count + 1 : count;
    },
  });
  try {
    return run();
  } finally {
    delete (emitter as unknown as Record<string, unknown>).listenerCount;
  }
}

/**
 * instrumentation-http, except that the server response, the client request
 * and its response get no listeners from us: what upstream registers there
 * ('close', 'response', 'end', errorMonitor) becomes observers. Upstream adds `response.on('close')` and `response.on(errorMonitor)`
 * to end the SERVER span; those change the app's listenerCount()/eventNames()
 * and make `res` hold the span. Here the two registrations upstream makes
 * before the app's handler runs are turned into observers of the response's
 * emits (see observeEmit in src/context-manager.ts), kept off the object.
 */
export class ListenerFreeHttpInstrumentation extends HttpBase {
  override _traceClientRequest(request: EventEmitter, ...rest: unknown[]): unknown {
    const observeEmit = this.getConfig()[OBSERVE_EMIT_OPTION] as ObserveEmit | undefined;
    if (typeof observeEmit !== 'function' || !(request instanceof EventEmitter) || Object.hasOwn(request, 'prependListener')) return super._traceClientRequest(request, ...rest);
    // Our copy of upstream's CLIENT path (http-outgoing.ts), when upstream's helpers are where we know them.
    const utils = loadUpstreamHttpUtils();
    if (utils !== null) {
      const [span, startTime, metricAttributes] = rest as [Span, unknown, Attributes];
      return traceClientRequest(this as unknown as ClientInstrumentation, utils, observeEmit, request as Parameters<typeof traceClientRequest>[3], span, startTime, metricAttributes);
    }
    const inheritedPrepend = request.prependListener;
    // Upstream's 'response' listener becomes an observer too. It drains the
    // response when it is the only listener (`listenerCount('response') <= 1`):
    // while it runs, the count includes it, as it did when it was a listener.
    Object.defineProperty(request, 'prependListener', {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function prependListener(this: EventEmitter, name: string | symbol, listener: Listener) {
        if (this !== request || name !== 'response') return inheritedPrepend.call(this, name, listener);
        observeEmit(request, 'response', (response: unknown) => {
          if (!(response instanceof EventEmitter)) return listener.call(request, response);
          return withOneMoreListener(request, 'response', () => withListenersAsObservers(response, ['end', errorMonitor], observeEmit, () => listener.call(request, response)));
        });
        return this;
      },
    });
    try {
      return withListenersAsObservers(request, ['close', errorMonitor], observeEmit, () => super._traceClientRequest(request, ...rest));
    } finally {
      delete (request as unknown as Record<string, unknown>).prependListener;
    }
  }

  override _incomingRequestFunction(component: string, original: Emit): Emit {
    const config = this.getConfig();
    const observeEmit = config[OBSERVE_EMIT_OPTION] as ((emitter: EventEmitter, event: string | symbol, listener: Listener) => void) | undefined;
    if (typeof observeEmit !== 'function') return super._incomingRequestFunction(component, original);
    // Our own copy of upstream's SERVER path (http-incoming.ts), unless a setting only upstream's handles is used.
    const utils = loadUpstreamHttpUtils();
    if (utils !== null && config.requireParentforIncomingSpans !== true) {
      return createIncomingRequestFunction(this as unknown as IncomingInstrumentation, utils, observeEmit, component, original);
    }
    const intercepting = new WeakMap<object, () => void>();
    // Upstream calls the server's emit to run the app's handler: our `on` is gone by then.
    const handOverToApp = function (this: unknown, event: string | symbol, ...args: unknown[]) {
      const response = args[1];
      if (typeof response === 'object' && response !== null) intercepting.get(response)?.();
      return original.apply(this, [event, ...args]);
    } as Emit;
    const upstream = super._incomingRequestFunction(component, handOverToApp);
    return function incomingRequest(this: unknown, event: string | symbol, ...args: unknown[]) {
      const response = args[1];
      if (event !== 'request' || !(response instanceof EventEmitter) || Object.hasOwn(response, 'on')) return upstream.apply(this, [event, ...args]);
      const inheritedOn = response.on;
      const stop = () => {
        intercepting.delete(response);
        delete (response as unknown as Record<string, unknown>).on;
      };
      intercepting.set(response, stop);
      Object.defineProperty(response, 'on', {
        configurable: true,
        writable: true,
        enumerable: false,
        value: function on(this: EventEmitter, name: string | symbol, listener: Listener) {
          if (this !== response) return inheritedOn.call(this, name, listener);
          observeEmit(response, name, listener);
          return this;
        },
      });
      try {
        return upstream.apply(this, [event, ...args]);
      } finally {
        if (intercepting.has(response)) stop();
      }
    } as Emit;
  }
}
