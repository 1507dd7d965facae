/**
 * Whose SIGTERM/SIGINT listeners are there besides ours, judged by what the
 * exit-hook libraries say about themselves and do:
 * - signal-exit (v3 and v4, through write-file-atomic, execa, proper-lockfile,
 *   foreground-child, nyc, restore-cursor, …) re-raises the signal, after
 *   running its exit callbacks, only when its listeners are the only ones
 *   left, so that it never overrides an app's own handler. It announces
 *   itself: v3 keeps an emitter on `process.__signal_exit_emitter__`, v4 on
 *   `globalThis[Symbol.for('signal-exit emitter')]` (v4 also reads v3's), and
 *   each emitter's `count` is the number of loaded copies, each listening to
 *   every signal once. Its listeners are not reachable, so they are told apart
 *   by that count, the same test signal-exit applies itself.
 * - exit-hook (5) and async-exit-hook (2) run their hooks and then call
 *   process.exit(128+n) whatever else listens; close-with-grace (2) calls its
 *   function once, then process.exit(0), or 1 after an error, its timeout or
 *   a second signal. To us they are the app's own handler, which keeps the
 *   exit; the exit flush sends what their process.exit() cut short.
 * Any listener that does not announce itself is the app's.
 */
const SIGNAL_EXIT_V4 = Symbol.for('signal-exit emitter');

interface SignalExitEmitter {
  count?: unknown;
}

function countOf(emitter: SignalExitEmitter | undefined): number {
  return typeof emitter === 'object' && emitter !== null && typeof emitter.count === 'number' ? emitter.count : 0;
}

/** signal-exit's listeners on each signal it handles, over v3 and v4 and every copy of them loaded. */
export function signalExitListenerCount(): number {
  const v3 = (process as { __signal_exit_emitter__?: SignalExitEmitter }).__signal_exit_emitter__;
  const v4 = (globalThis as { [SIGNAL_EXIT_V4]?: SignalExitEmitter })[SIGNAL_EXIT_V4];
  return countOf(v3) + countOf(v4);
}

/**
 * True when a listener other than ours and signal-exit's handles `signal`:
 * then exiting is the app's decision. False when, were our listener not
 * there, the signal would end the process: nothing else listens (Node's
 * default), or only signal-exit, which then re-raises it.
 */
export function appHandlesSignal(signal: NodeJS.Signals, ownListener: (...args: never[]) => void): boolean {
  const others = process.listeners(signal).filter((listener) => listener !== ownListener).length;
  return others > 0 && others !== signalExitListenerCount();
}
