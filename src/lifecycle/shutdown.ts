import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

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

/** Resolves when `work` settles or after `timeoutMs`, whichever is first; never rejects. */
export function withDeadline(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/**
 * SIGTERM/SIGINT: flush within the deadline, then behave as if we were not
 * there. Node's default for these signals is to die by them (exit status
 * 128+n); adding a listener cancels that, so when the app has no listener of
 * its own we remove ours and raise the signal again. When the app does listen,
 * exiting is its decision: we only flush.
 * beforeExit: flush what ended since the last flush.
 */
export function installShutdownHandlers(provider: Flushable, counter: EndedSpanCounter, timeoutMs: number): void {
  let flushedAt = 0;
  for (const signal of SIGNALS) {
    let received = false;
    const onSignal = () => {
      const appListens = process.listeners(signal).some((listener) => listener !== onSignal);
      if (received) {
        // Second Ctrl-C while flushing: the person wants out now.
        if (!appListens) reraise(signal, onSignal);
        return;
      }
      received = true;
      flushedAt = counter.ended;
      const work = appListens ? provider.forceFlush() : provider.shutdown();
      void withDeadline(work, timeoutMs).then(() => {
        received = false;
        if (!appListens && !process.listeners(signal).some((listener) => listener !== onSignal)) reraise(signal, onSignal);
      });
    };
    process.on(signal, onSignal);
  }
  process.on('beforeExit', () => {
    if (counter.ended === flushedAt) return;
    flushedAt = counter.ended;
    void withDeadline(provider.forceFlush(), timeoutMs);
  });
}

function reraise(signal: NodeJS.Signals, ownListener: () => void): void {
  process.removeListener(signal, ownListener);
  process.kill(process.pid, signal);
}
