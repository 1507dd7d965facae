/**
 * Lines owed to stderr however the process ends: at 'exit' (process.exit(),
 * an uncaught exception, the event loop emptying) and just before we raise
 * SIGTERM/SIGINT again (dying by a signal emits no 'exit'). Reports must be
 * idempotent: the second occasion finds nothing new to say.
 */
const reports = new Set<() => void>();

export function reportAtProcessEnd(report: () => void): void {
  if (reports.size === 0) process.on('exit', runProcessEndReports);
  reports.add(report);
}

export function runProcessEndReports(): void {
  for (const report of reports) {
    try {
      report();
    } catch {
      // A report must not change how the process ends.
    }
  }
}
