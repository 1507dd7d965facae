/** Returns its argument from the constructor, so a subclass's private field lands on that object. */
class ReturnsTarget {
  constructor(target: object) {
    return target;
  }
}

export interface PrivateSlot<T> {
  get(target: object): T | undefined;
  set(target: object, value: T): void;
}

/**
 * Per-object data kept on the object itself, in a private field only this
 * slot can read: invisible to the app (no own key or symbol, not in
 * util.inspect, a deep compare, JSON or a clone) and not held by a WeakMap.
 * A WeakMap entry per request (or per request's response) costs a hash-table
 * insert and an ephemeron the GC has to walk; a private field is a cached
 * shape transition, and reading it a property load. Objects that refuse a new
 * field (an engine that applies non-extensibility to private fields) fall back
 * to a WeakMap.
 */
export function createPrivateSlot<T>(): PrivateSlot<T> {
  let fallback: WeakMap<object, T> | undefined;
  class Slot extends ReturnsTarget {
    #value: T;

    constructor(target: object, value: T) {
      super(target);
      this.#value = value;
    }

    static get(target: object): T | undefined {
      if (#value in target) return (target as Slot).#value;
      return fallback?.get(target);
    }

    static set(target: object, value: T): void {
      if (#value in target) {
        (target as Slot).#value = value;
        return;
      }
      try {
        new Slot(target, value);
      } catch {
        (fallback ??= new WeakMap()).set(target, value);
      }
    }
  }
  return { get: Slot.get, set: Slot.set };
}
