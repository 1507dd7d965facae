import { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

type Emit = EventEmitter['emit'];

/**
 * Upstream's context manager, with a binding of EventEmitters the app cannot see.
 *
 * The http instrumentation binds every request and response to the request's
 * context, so that the app's listeners (a body parser's 'data' and 'end') run
 * inside it rather than in the socket's. Upstream replaces six listener
 * methods on each emitter and wraps every listener; an earlier version of ours
 * set `emit` and a symbol holding the context on each one. Both show on the
 * app's objects (own keys, `req.emit` identity, listeners(), a deep compare
 * walking into the context and its span).
 *
 * Here nothing is set on the emitter: the context sits in a WeakMap, and
 * `emit` is defined once on the emitter's class prototype (IncomingMessage,
 * ServerResponse), where it looks the emitter up and calls the inherited
 * emit. Listeners stay the functions the app added; listeners added before
 * the binding run in the context too; an emitter never bound costs a WeakMap
 * lookup per emit. A class that defines its own `emit` keeps it: its
 * instances get a non-enumerable `emit` of their own instead.
 */
export class EmitterBindingContextManager extends AsyncLocalStorageContextManager {
  private readonly boundContexts = new WeakMap<EventEmitter, Context>();
  private readonly patchedPrototypes = new WeakSet<object>();

  override bind<T>(context: Context, target: T): T {
    if (target instanceof EventEmitter) return this.bindEmitter(context, target) as T;
    return super.bind(context, target);
  }

  private bindEmitter(context: Context, emitter: EventEmitter): EventEmitter {
    // As upstream: the first binding wins.
    if (this.boundContexts.has(emitter)) return emitter;
    this.boundContexts.set(emitter, context);
    const proto = Object.getPrototypeOf(emitter) as object | null;
    if (proto === null || proto === EventEmitter.prototype || Object.hasOwn(proto, 'emit')) {
      if (!Object.hasOwn(emitter, 'emit')) this.defineEmit(emitter, emitter.emit);
      return emitter;
    }
    if (!this.patchedPrototypes.has(proto)) {
      this.patchedPrototypes.add(proto);
      this.defineEmit(proto, undefined);
    }
    return emitter;
  }

  /**
   * An `emit` on `target` that runs the call in the emitter's bound context.
   * `inherited` undefined: the prototype's parent's emit, read at each call,
   * so a later patch of EventEmitter.prototype.emit is still honoured.
   */
  private defineEmit(target: object, inherited: Emit | undefined): void {
    const manager = this;
    const parent = Object.getPrototypeOf(target) as { emit: Emit };
    const emit = function emit(this: EventEmitter, ...args: Parameters<Emit>): boolean {
      const original = inherited ?? parent.emit;
      const context = manager.boundContexts.get(this);
      if (context === undefined || manager.active() === context) return original.apply(this, args);
      return manager.with(context, applyEmit, undefined, original, this, args);
    } as Emit;
    Object.defineProperty(emit, 'length', { value: EventEmitter.prototype.emit.length, configurable: true });
    Object.defineProperty(target, 'emit', { value: emit, writable: true, enumerable: false, configurable: true });
  }
}

function applyEmit(emit: Emit, emitter: EventEmitter, args: Parameters<Emit>): boolean {
  return emit.apply(emitter, args);
}
