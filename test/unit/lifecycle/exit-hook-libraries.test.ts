import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, describe, it } from 'node:test';
import { appHandlesSignal, signalExitListenerCount } from '../../../src/lifecycle/exit-hook-libraries.ts';

// The real packages, as installed for the e2e tests: their announcements are what is under test.
const require = createRequire(import.meta.url);
const onExitV3 = require('signal-exit-v3') as (callback: () => void) => () => void;
const { onExit: onExitV4 } = require('signal-exit') as { onExit: (callback: () => void) => () => void };

/** Stands in for our own SIGTERM listener. */
const ours = () => {};
const cleanups: (() => void)[] = [];
function listen(listener: () => void): void {
  process.on('SIGTERM', listener);
  cleanups.push(() => process.removeListener('SIGTERM', listener));
}

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe('appHandlesSignal: which listeners besides ours are the app\'s own handler', () => {
  it('nobody else listens: no (Node\'s default ends the process)', () => {
    listen(ours);
    assert.equal(appHandlesSignal('SIGTERM', ours), false);
  });

  it('a listener of the app: yes', () => {
    listen(ours);
    listen(() => {});
    assert.equal(appHandlesSignal('SIGTERM', ours), true);
  });

  it('only signal-exit 3, 4, or both (it re-raises when alone): no', () => {
    listen(ours);
    cleanups.push(onExitV3(() => {}));
    assert.equal(signalExitListenerCount(), 1);
    assert.equal(appHandlesSignal('SIGTERM', ours), false);
    cleanups.push(onExitV4(() => {}));
    assert.equal(signalExitListenerCount(), 2);
    assert.equal(appHandlesSignal('SIGTERM', ours), false);
    assert.equal(appHandlesSignal('SIGINT', ours), false);
  });

  it('signal-exit beside a listener of the app: yes', () => {
    listen(ours);
    cleanups.push(onExitV4(() => {}));
    listen(() => {});
    assert.equal(appHandlesSignal('SIGTERM', ours), true);
  });

  it('once signal-exit has no callbacks left it unloads, and its count goes with it', () => {
    listen(ours);
    const remove = onExitV3(() => {});
    remove();
    listen(() => {});
    assert.equal(signalExitListenerCount(), 0);
    assert.equal(appHandlesSignal('SIGTERM', ours), true);
  });
});
