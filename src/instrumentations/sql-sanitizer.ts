/**
 * Replaces literal values in SQL with `?`, so a statement can be recorded
 * without the data in it (a user's e-mail in a WHERE clause, say). Bind
 * parameters ($1, ?, @p1), identifiers (table1, "Quoted", `backticked`) and
 * keywords stay.
 */

/**
 * How string literals are written. `standard` (PostgreSQL, SQL Server, SQLite):
 * '…' with '' inside, "…" is an identifier. `mysql` (MySQL, MariaDB): "…" is a
 * string too (default sql_mode) and a backslash escapes the next character, so
 * 'It\'s' must be read as one literal or the rest of it would be left in clear.
 */
export type SqlDialect = 'standard' | 'mysql';

const STRING_LITERAL = /(?:[EeBbXxNn])?'(?:[^']|'')*'/g;
const MYSQL_STRING_LITERAL = /(?:[BbXxNn]|_[A-Za-z0-9]+)?(?:'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"\\]|\\[\s\S]|"")*")/g;
const DOLLAR_QUOTED = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g;
// Numbers not glued to an identifier, a bind parameter or a quoted name.
const HEX_LITERAL = /(?<![\w$."`])0[xX][0-9A-Fa-f]+(?![\w"`])/g;
const NUMERIC_LITERAL = /(?<![\w$."`])-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w"`])/g;
const MAX_LENGTH = 4096;

export function sanitizeSql(sql: string, dialect: SqlDialect = 'standard'): string {
  const text = sql.length > MAX_LENGTH * 4 ? sql.slice(0, MAX_LENGTH * 4) : sql;
  const withoutStrings = dialect === 'mysql' ? text.replace(MYSQL_STRING_LITERAL, '?') : text.replace(DOLLAR_QUOTED, '?').replace(STRING_LITERAL, '?');
  const sanitized = withoutStrings.replace(HEX_LITERAL, '?').replace(NUMERIC_LITERAL, '?');
  return sanitized.length > MAX_LENGTH ? `${sanitized.slice(0, MAX_LENGTH)}…` : sanitized;
}

/** The dialect of a span's db.system.name (knex reports its driver name: mysql, mysql2). */
export function sqlDialectOf(system: unknown): SqlDialect {
  return system === 'mysql' || system === 'mysql2' || system === 'mariadb' ? 'mysql' : 'standard';
}
