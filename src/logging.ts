/** Every line we print starts with this, so a person can grep for it. */
export const LOG_PREFIX = '@acme/otel-register:';

/**
 * One line on stderr. Configuration mistakes go through here whatever
 * OTEL_LOG_LEVEL says: a bad value silently ignored is the failure we exist to avoid.
 */
export function printLine(message: string): void {
  try {
    process.stderr.write(`${LOG_PREFIX} ${oneLine(message)}\n`);
  } catch {
    // stderr closed: nothing sensible left to do, and the app must not notice.
  }
}

function oneLine(message: string): string {
  return message.replace(/[\r\n]+/g, ' ');
}
