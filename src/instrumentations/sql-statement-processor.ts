import type { Context } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { sanitizeSql, sqlDialectOf } from './sql-sanitizer.ts';

/**
 * Instrumentations that record the statement text as the app wrote it and
 * offer no option or hook to change it (instrumentation-mysql 0.70,
 * -tedious 0.43, -knex 0.68: their configs have no request or masking hook;
 * knex only has maxQueryLength). They put db.query.text among the attributes
 * of startSpan(), so the span holds it when onStart runs, and replacing it
 * there means the raw text never reaches an exporter. pg and mysql2 are
 * handled by their own hooks (configs.ts) and are not listed here.
 */
const SCOPES_WITHOUT_STATEMENT_HOOK: ReadonlySet<string> = new Set([
  '@opentelemetry/instrumentation-mysql',
  '@opentelemetry/instrumentation-tedious',
  '@opentelemetry/instrumentation-knex',
]);
const QUERY_TEXT = 'db.query.text';
// Older semantic conventions: not written by these versions, covered should a version bring it back.
const STATEMENT = 'db.statement';

export class SqlStatementSanitizingProcessor implements SpanProcessor {
  onStart(span: Span, _context: Context): void {
    if (!SCOPES_WITHOUT_STATEMENT_HOOK.has(span.instrumentationScope.name)) return;
    // The SDK calls processors without a guard, inside the app's query call: never throw.
    try {
      const dialect = sqlDialectOf(span.attributes['db.system.name'] ?? span.attributes['db.system']);
      for (const key of [QUERY_TEXT, STATEMENT]) {
        const text = span.attributes[key];
        if (typeof text === 'string') span.setAttribute(key, sanitizeSql(text, dialect));
      }
    } catch {
      // A statement we cannot read is not recorded rather than recorded raw.
      span.setAttribute(QUERY_TEXT, '?');
    }
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
