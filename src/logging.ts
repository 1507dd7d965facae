/** Every line we print starts with this, so a person can grep for it. */
export const LOG_PREFIX = '@acme/otel-register:';

/**
 * One line on stderr. Configuration mistakes go through here whatever
 * OTEL_LOG_LEVEL says: a bad value silently ignored is the failure we exist to avoid.
 */
export function printLine(message: string): void {
  try {
    process.stderr.write(`${LOG_PREFIX} ${maskSecrets(oneLine(message))}\n`);
  } catch {
    // stderr closed: nothing sensible left to do, and the app must not notice.
  }
}

function oneLine(message: string): string {
  return message.replace(/[\r\n]+/g, ' ');
}

const secrets = new Set<string>();

/**
 * Values that must never reach a log (OTEL_EXPORTER_OTLP_HEADERS values). Our
 * own lines never include them; this is the net under upstream's debug lines,
 * which dump whole objects.
 */
export function registerSecrets(values: Iterable<string>): void {
  for (const value of values) if (value.length >= 4) secrets.add(value);
}

function maskSecrets(line: string): string {
  for (const secret of secrets) if (line.includes(secret)) line = line.split(secret).join('***');
  return line;
}
