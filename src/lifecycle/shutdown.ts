import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { clearExitDeadline, setExitDeadline } from './exit-deadline.ts';
import { appHandlesSignal } from './exit-hook-libraries.ts';
import { runProcessEndReports } from './process-end-reports.ts';

export interface Flushable {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Counts ended spans so beforeExit flushes only when there is something new (else it would loop). */
export class EndedSpanCounter implements SpanProcessor {
  ended = 0;
  onStart(_span: Span, _context: Context): void {}
  onEnd(_span: ReadableSpan): void {
    this.ended++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Resolves when `work` settles (true) or after `timeoutMs` (false), whichever is first; never rejects. */
export function withDeadline(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(settled, settled);
  });
}

/**
 * SIGTERM/SIGINT: flush within the deadline, then behave as if we were not
 * there. Node's default for these signals is to die by them (exit status
 * 128+n); adding a listener cancels that, so when the app has no listener of
 * its own we remove ours and raise the signal again. signal-exit's listeners
 * are not the app's: they re-raise once ours is gone (exit-hook-libraries.ts).
 * When the app does listen, exiting is its decision: we only flush.
 * beforeExit: flush what ended since the last flush, within the same deadline.
 */
export function installShutdownHandlers(provider: Flushable, counter: EndedSpanCounter, timeoutMs: number): void {
  let flushedAt = 0;
  for (const signal of SIGNALS) {
    let received = false;
    const onSignal = () => {
      const appListens = appHandlesSignal(signal, onSignal);
      if (received) {
        // Second Ctrl-C while flushing: the person wants out now, so nothing waits for the
        // collector any more (retries, the exit flush if the app then calls process.exit()).
        setExitDeadline(Date.now());
        if (!appListens) reraise(signal, onSignal);
        return;
      }
      received = true;
      flushedAt = counter.ended;
      setExitDeadline(Date.now() + timeoutMs);
      // Shut down only when nothing but us listens: a signal-exit callback may keep the process alive (returning true).
      const work = process.listenerCount(signal) > 1 ? provider.forceFlush() : provider.shutdown();
      void withDeadline(work, timeoutMs).then(() => {
        received = false;
        clearExitDeadline();
        if (!appListens && !appHandlesSignal(signal, onSignal)) reraise(signal, onSignal);
      });
    };
    process.on(signal, onSignal);
  }
  let exitTimer: NodeJS.Timeout | undefined;
  const onBeforeExit = () => {
    // The app had nothing left to do when beforeExit came, so whatever still keeps the
    // process alive past the deadline is ours: an export a hung collector does not answer
    // (in flight since before, or the flush below). Then end the process as it would have
    // ended: process.exit() without an argument uses process.exitCode. Unref'd, so the
    // timer itself holds nothing. An app that listens to beforeExit may have started new
    // work there, so then it is left alone.
    exitTimer ??= setTimeout(() => {
      if (!process.listeners('beforeExit').some((listener) => listener !== onBeforeExit)) process.exit();
    }, timeoutMs).unref();
    if (counter.ended === flushedAt) return;
    flushedAt = counter.ended;
    setExitDeadline(Date.now() + timeoutMs);
    void withDeadline(provider.forceFlush(), timeoutMs).then(clearExitDeadline);
  };
  process.on('beforeExit', onBeforeExit);
}

function reraise(signal: NodeJS.Signals, ownListener: () => void): void {
  runProcessEndReports();
  process.removeListener(signal, ownListener);
  process.kill(process.pid, signal);
}
