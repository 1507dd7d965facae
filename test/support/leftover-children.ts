/**
 * Child processes a test file started and has not stopped when its process
 * ends (an assertion failed before `app.stop()`, a `before` hook failed half
 * way) are killed with it, so none outlives the run.
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function killAtExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}
