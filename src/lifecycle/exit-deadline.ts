/**
 * While a flush at SIGTERM/SIGINT/beforeExit runs, the moment by which the
 * process means to be gone. Export retries do not wait past it: a retry timer
 * would otherwise keep a finished script alive (the batch processor holds a
 * timer of its own for as long as an export is unanswered). The exit flush
 * gets only what is left of it. A second Ctrl-C moves it to now.
 */
let deadline = Number.POSITIVE_INFINITY;

export function setExitDeadline(at: number): void {
  deadline = Math.min(deadline, at);
}

export function clearExitDeadline(): void {
  deadline = Number.POSITIVE_INFINITY;
}

export function exitDeadline(): number {
  return deadline;
}
