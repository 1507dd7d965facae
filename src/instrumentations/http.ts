import { EventEmitter } from 'node:events';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

type Listener = (...args: unknown[]) => void;
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => unknown;
/** configs.ts passes our context manager's observeEmit under this key. */
export const OBSERVE_EMIT_OPTION = 'acmeObserveEmit';

/** The base with the member we extend visible (upstream declares it private). */
const HttpBase = HttpInstrumentation as unknown as new (config?: Record<string, unknown>) => {
  getConfig(): Record<string, unknown>;
  _incomingRequestFunction(component: string, original: Emit): Emit;
};

/**
 * instrumentation-http, except that the server response gets no listeners
 * from us. Upstream adds `response.on('close')` and `response.on(errorMonitor)`
 * to end the SERVER span; those change the app's listenerCount()/eventNames()
 * and make `res` hold the span. Here the two registrations upstream makes
 * before the app's handler runs are turned into observers of the response's
 * emits (see observeEmit in src/context-manager.ts), kept off the object.
 */
export class ListenerFreeHttpInstrumentation extends HttpBase {
  override _incomingRequestFunction(component: string, original: Emit): Emit {
    const observeEmit = this.getConfig()[OBSERVE_EMIT_OPTION] as ((emitter: EventEmitter, event: string | symbol, listener: Listener) => void) | undefined;
    if (typeof observeEmit !== 'function') return super._incomingRequestFunction(component, original);
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
