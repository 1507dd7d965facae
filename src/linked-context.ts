import type { Context } from '@opentelemetry/api';

/** Marks a key deleted in a link: lookups stop there and answer undefined. */
const DELETED: unique symbol = Symbol('deleted');

/**
 * An OpenTelemetry Context as a chain of links, one key and value each.
 *
 * The API's BaseContext copies its whole Map and makes three closures for
 * every setValue; a request sets the SERVER span, the RPC metadata and each
 * framework span, so that was a Map copy and four allocations per step of
 * every request. A link here is one small object; reading walks the chain,
 * which stays short: setting a key the newest link already holds replaces
 * that link rather than stacking on it.
 *
 * Same contract as BaseContext: immutable, setValue/deleteValue return a new
 * context, getValue of a missing or deleted key is undefined.
 */
export class LinkedContext implements Context {
  readonly #parent: LinkedContext | undefined;
  readonly #key: symbol | undefined;
  readonly #value: unknown;

  private constructor(parent: LinkedContext | undefined, key: symbol | undefined, value: unknown) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
  }

  /** A context with no values, as ROOT_CONTEXT. */
  static empty(): LinkedContext {
    return new LinkedContext(undefined, undefined, undefined);
  }

  getValue(key: symbol): unknown {
    for (let link: LinkedContext | undefined = this; link !== undefined; link = link.#parent) {
      if (link.#key === key) return link.#value === DELETED ? undefined : link.#value;
    }
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    return new LinkedContext(this.#key === key ? this.#parent : this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new LinkedContext(this.#key === key ? this.#parent : this, key, DELETED);
  }
}

/** The root every incoming request's context grows from: empty, like ROOT_CONTEXT, and never changed. */
export const REQUEST_ROOT_CONTEXT: Context = LinkedContext.empty();
