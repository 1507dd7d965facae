import type { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter, errorMonitor } from 'node:events';
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createPrivateSlot } from './private-slot.ts';

type Emit = EventEmitter['emit'];
type Listener = (...args: unknown[]) => void;

interface Bound {
  readonly context: Context;
  readonly manager: AsyncLocalStorageContextManager;
}
interface EmitterState {
  /** The context the emitter was bound to, and the manager that runs its events in it. */
  bound?: Bound;
  /** What our instrumentations would have added as listeners, kept off the emitter (see observeEmit). */
  observers?: Map<string | symbol, Listener[]>;
}
/**
 * An emitter's state sits on the emitter, in a private field (see
 * private-slot.ts): read on every emit in the process, set for every bound
 * request and response.
 */
const emitterStates = createPrivateSlot<EmitterState>();
let inheritedEmit: Emit | undefined;
const listenerCount = EventEmitter.prototype.listenerCount;

function stateOf(emitter: EventEmitter): EmitterState {
  let state = emitterStates.get(emitter);
  if (state === undefined) emitterStates.set(emitter, (state = {}));
  return state;
}

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
 * EventEmitter.prototype.emit, replaced once by a function of the same name
 * and length, looks the emitter up. So `req.emit === EventEmitter.prototype.emit`
 * as without us, listeners stay the functions the app added, and
 * listenerCount() counts the app's. An emitter never bound costs one WeakMap
 * lookup per emit. A class with an emit of its own that does not call
 * EventEmitter's gets a non-enumerable `emit` on the instance instead.
 */
export class EmitterBindingContextManager extends AsyncLocalStorageContextManager {
  /**
   * Upstream's with(), without the bound copy of `fn` it makes whenever a
   * `this` is given (`fn.bind(thisArg)` on every call): `fn` is applied with
   * it instead. The same call, the same `this` and arguments.
   */
  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const storage = (this as unknown as { _asyncLocalStorage: AsyncLocalStorage<Context> })._asyncLocalStorage;
    if (thisArg == null) return storage.run(context, fn, ...args);
    return storage.run(context, applyWithThis, fn as unknown as (...args: unknown[]) => unknown, thisArg, args) as ReturnType<F>;
  }

  override bind<T>(context: Context, target: T): T {
    if (target instanceof EventEmitter) return this.bindEmitter(context, target) as T;
    return super.bind(context, target);
  }

  private bindEmitter(context: Context, emitter: EventEmitter): EventEmitter {
    // As upstream: the first binding wins.
    const state = stateOf(emitter);
    if (state.bound !== undefined) return emitter;
    patchEventEmitterEmit();
    state.bound = { context, manager: this };
    if (emitter.emit !== EventEmitter.prototype.emit && !Object.hasOwn(emitter, 'emit')) bindOwnEmit(emitter, emitter.emit);
    return emitter;
  }
}

/**
 * Calls `listener` when `emitter` emits `event`, as `emitter.on(event, listener)`
 * would, without adding a listener: listenerCount(), eventNames() and a deep
 * compare of the emitter stay the app's. `errorMonitor` is honoured as Node
 * does: before the 'error' listeners. Observers run before the emitter's
 * listeners, in its bound context.
 */
export function observeEmit(emitter: EventEmitter, event: string | symbol, listener: Listener): void {
  patchEventEmitterEmit();
  const key = event === errorMonitor ? 'error' : event;
  const state = stateOf(emitter);
  const byEvent = (state.observers ??= new Map());
  const list = byEvent.get(key);
  if (list === undefined) byEvent.set(key, [listener]);
  else list.push(listener);
}

function applyWithThis(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
  return fn.apply(thisArg, args);
}

function patchEventEmitterEmit(): void {
  if (inheritedEmit !== undefined) return;
  const original = EventEmitter.prototype.emit;
  inheritedEmit = original;
  const emit = function emit(this: EventEmitter, type: string | symbol): boolean {
    const state = emitterStates.get(this);
    if (state === undefined) return original.apply(this, arguments as unknown as Parameters<Emit>);
    return emitBound(this, original, arguments as unknown as Parameters<Emit>, state.bound, state.observers?.get(type));
  } as Emit;
  Object.defineProperty(emit, 'length', { value: original.length, configurable: true });
  Object.defineProperty(EventEmitter.prototype, 'emit', { value: emit, writable: true, enumerable: false, configurable: true });
}

/** For emitters whose class has an emit of its own that never reaches EventEmitter's. */
function bindOwnEmit(emitter: EventEmitter, own: Emit): void {
  const emit = function emit(this: EventEmitter): boolean {
    return emitBound(this, own, arguments as unknown as Parameters<Emit>, emitterStates.get(this)?.bound, undefined);
  } as Emit;
  Object.defineProperty(emitter, 'emit', { value: emit, writable: true, enumerable: false, configurable: true });
}

function emitBound(
  emitter: EventEmitter,
  emit: Emit,
  args: Parameters<Emit>,
  bound: Bound | undefined,
  observed: Listener[] | undefined,
): boolean {
  if (bound === undefined || bound.manager.active() === bound.context) return emitObserved(emitter, emit, args, observed);
  // An event nobody listens to or observes runs no code in the context: not entering it spares a new
  // async context frame for each of Node's own emits ('end', 'close', … on every request and response).
  // EventEmitter's emit only ('error' without listeners throws, and must keep doing so where it did).
  if (observed === undefined && emit === inheritedEmit && args[0] !== 'error' && listenerCount.call(emitter, args[0]) === 0) return emit.apply(emitter, args);
  return bound.manager.with(bound.context, emitObserved, undefined, emitter, emit, args, observed);
}

function emitObserved(emitter: EventEmitter, emit: Emit, args: Parameters<Emit>, observed: Listener[] | undefined): boolean {
  if (observed !== undefined) {
    const rest = Array.prototype.slice.call(args, 1) as unknown[];
    for (const listener of observed.slice()) listener.apply(emitter, rest);
  }
  return emit.apply(emitter, args);
}
