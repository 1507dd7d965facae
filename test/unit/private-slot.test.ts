import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { inspect, isDeepStrictEqual } from 'node:util';
import { createPrivateSlot } from '../../src/private-slot.ts';

describe('createPrivateSlot', () => {
  it('keeps a value per object that the object does not show: no own key, same inspect output, deep-equal to an untouched one', () => {
    const slot = createPrivateSlot<{ n: number }>();
    const emitter = new EventEmitter();
    const keysBefore = Reflect.ownKeys(emitter);
    const shownBefore = inspect(emitter, { showHidden: true });
    slot.set(emitter, { n: 1 });
    assert.deepEqual(slot.get(emitter), { n: 1 });
    assert.deepEqual(Reflect.ownKeys(emitter), keysBefore);
    assert.equal(inspect(emitter, { showHidden: true }), shownBefore);
    assert.ok(isDeepStrictEqual(emitter, new EventEmitter()));
  });

  it('replaces the value on a second set, and keeps slots apart', () => {
    const first = createPrivateSlot<string>();
    const second = createPrivateSlot<string>();
    const target = {};
    first.set(target, 'a');
    first.set(target, 'b');
    second.set(target, 'c');
    assert.equal(first.get(target), 'b');
    assert.equal(second.get(target), 'c');
    assert.equal(first.get({}), undefined);
  });

  it('works for frozen objects and proxies', () => {
    const slot = createPrivateSlot<number>();
    const frozen = Object.freeze({});
    slot.set(frozen, 7);
    assert.equal(slot.get(frozen), 7);
    const proxy = new Proxy({}, {});
    slot.set(proxy, 8);
    assert.equal(slot.get(proxy), 8);
  });
});
