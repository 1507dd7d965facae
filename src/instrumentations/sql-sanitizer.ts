/**
 * Replaces literal values in SQL with `?`, so a statement can be recorded
 * without the data in it (a user's e-mail in a WHERE clause, say). Bind
 * parameters ($1), identifiers (table1, "Quoted") and keywords stay.
 */
const STRING_LITERAL = /(?:[EeBbXxNn])?'(?:[^']|'')*'/g;
const DOLLAR_QUOTED = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g;
// A number not glued to an identifier, a bind parameter or a quoted name.
const NUMERIC_LITERAL = /(?<![\w$."])-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w"])/g;
const MAX_LENGTH = 4096;

export function sanitizeSql(sql: string): string {
  const text = sql.length > MAX_LENGTH * 4 ? sql.slice(0, MAX_LENGTH * 4) : sql;
  const sanitized = text.replace(DOLLAR_QUOTED, '?').replace(STRING_LITERAL, '?').replace(NUMERIC_LITERAL, '?');
  return sanitized.length > MAX_LENGTH ? `${sanitized.slice(0, MAX_LENGTH)}…` : sanitized;
}
