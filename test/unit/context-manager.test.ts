import assert from 'node:assert/strict';
import { EventEmitter, errorMonitor } from 'node:events';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { EmitterBindingContextManager, observeEmit } from '../../src/context-manager.ts';

const KEY = createContextKey('test');
const manager = new EmitterBindingContextManager().enable();
const requestContext = ROOT_CONTEXT.setValue(KEY, 'request');
const otherContext = ROOT_CONTEXT.setValue(KEY, 'other');
const seen = (): unknown => manager.active().getValue(KEY);

describe('EmitterBindingContextManager', () => {
  it('with() calls fn once with the given this and arguments, in the context, and returns its result', () => {
    const self = { name: 'self' };
    const calls: unknown[] = [];
    const result = manager.with(requestContext, function (this: unknown, a: number, b: string) {
      calls.push([this, a, b, seen()]);
      return 'done';
    }, self, 1, 'two');
    assert.equal(result, 'done');
    assert.deepEqual(calls, [[self, 1, 'two', 'request']]);
    assert.equal(seen(), undefined);
    assert.throws(() => manager.with(requestContext, () => { throw new Error('thrown'); }, self), /thrown/);
    assert.equal(seen(), undefined);
  });

  it('listeners of a bound emitter run in its context, wherever the event is emitted from', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    const values: unknown[] = [];
    emitter.on('data', () => values.push(seen()));
    emitter.once('end', () => values.push(seen()));
    emitter.emit('data');
    manager.with(otherContext, () => emitter.emit('data'));
    emitter.emit('end');
    emitter.emit('end');
    assert.deepEqual(values, ['request', 'request', 'request']);
  });

  it('listeners stay the functions added: removeListener, off and listeners() work untouched', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    let calls = 0;
    const listener = () => calls++;
    emitter.on('x', listener);
    assert.deepEqual(emitter.listeners('x'), [listener]);
    emitter.removeListener('x', listener);
    emitter.emit('x');
    emitter.on('x', listener);
    emitter.off('x', listener);
    emitter.emit('x');
    emitter.on('x', listener);
    emitter.removeAllListeners();
    emitter.emit('x');
    assert.equal(calls, 0);
    assert.equal(emitter.listenerCount('x'), 0);
  });

  it('emit returns what it returns unbound, and an error listener still receives the error', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    assert.equal(emitter.emit('nothing'), false);
    let got: unknown;
    emitter.on('error', (error: Error) => (got = [error.message, seen()]));
    assert.equal(emitter.emit('error', new Error('bad')), true);
    assert.deepEqual(got, ['bad', 'request']);
    assert.throws(() => manager.bind(requestContext, new EventEmitter()).emit('error', new Error('unhandled')), /unhandled/);
  });

  it('the first binding wins, as upstream', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    manager.bind(otherContext, emitter);
    let value: unknown;
    emitter.on('x', () => (value = seen()));
    emitter.emit('x');
    assert.equal(value, 'request');
  });

  it('a stream\'s data and end reach a listener in the bound context, across async turns', async () => {
    const stream = manager.bind(requestContext, new PassThrough());
    const values: unknown[] = [];
    const ended = new Promise<void>((resolve) => {
      stream.on('data', () => values.push(seen()));
      stream.on('end', () => {
        values.push(seen());
        resolve();
      });
    });
    setImmediate(() => manager.with(otherContext, () => stream.end('chunk')));
    await ended;
    assert.deepEqual(values, ['request', 'request']);
  });

  it('functions are bound as upstream binds them', () => {
    const bound = manager.bind(requestContext, function (this: unknown, a: number, b: number) {
      return [seen(), a + b, this];
    });
    const self = {};
    assert.deepEqual(manager.with(otherContext, () => bound.call(self, 1, 2)), ['request', 3, self]);
    assert.equal(bound.length, 2);
  });

  it('a bound emitter carries nothing of ours: same own keys and symbols, emit is EventEmitter\'s, listeners counted as without us', () => {
    const shape = (emitter: EventEmitter) => ({
      names: Object.getOwnPropertyNames(emitter).sort(),
      symbols: Object.getOwnPropertySymbols(emitter).map(String).sort(),
      emit: emitter.emit === EventEmitter.prototype.emit,
      events: emitter.eventNames().map(String),
    });
    const unbound = new IncomingMessage(new Socket());
    const bound = manager.bind(requestContext, new IncomingMessage(new Socket()));
    assert.deepEqual(shape(bound), shape(unbound));
    assert.equal(Object.hasOwn(bound, 'emit'), false);
    assert.equal(EventEmitter.prototype.emit.name, 'emit');
    assert.equal(EventEmitter.prototype.emit.length, 1);
    let value: unknown;
    bound.on('data', () => (value = seen()));
    bound.emit('data');
    assert.equal(value, 'request', 'its listeners still run in the bound context');
  });

  it('an app replacing emit on a bound emitter wraps ours, and its listeners still run in the context', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    const original = emitter.emit;
    const seenByApp: unknown[] = [];
    emitter.emit = function (this: EventEmitter, ...args: Parameters<EventEmitter['emit']>) {
      seenByApp.push(args[0]);
      return original.apply(this, args);
    };
    let value: unknown;
    emitter.on('x', () => (value = seen()));
    manager.with(otherContext, () => emitter.emit('x'));
    assert.deepEqual(seenByApp, ['x']);
    assert.equal(value, 'request');
  });

  it('observeEmit: called on the event, in the bound context, before listeners, without being a listener', () => {
    const emitter = manager.bind(requestContext, new EventEmitter());
    const calls: unknown[] = [];
    emitter.on('close', () => calls.push('listener'));
    observeEmit(emitter, 'close', (...args: unknown[]) => calls.push(['observer', seen(), ...args]));
    observeEmit(emitter, errorMonitor, (error: unknown) => calls.push(['monitor', (error as Error).message]));
    assert.equal(emitter.listenerCount('close'), 1);
    assert.deepEqual(emitter.eventNames(), ['close']);
    emitter.emit('close', 1);
    assert.throws(() => emitter.emit('error', new Error('unhandled')), /unhandled/, 'an error with no listener still throws');
    assert.deepEqual(calls, [['observer', 'request', 1], 'listener', ['monitor', 'unhandled']]);
  });

  it('anything else is returned as is', () => {
    const value = { plain: true };
    assert.equal(manager.bind(requestContext as Context, value), value);
  });
});
