import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeSql, sqlDialectOf } from '../../../src/instrumentations/sql-sanitizer.ts';

const CASES: [string, string][] = [
  ['SELECT * FROM users WHERE email = \'a@b.c\'', 'SELECT * FROM users WHERE email = ?'],
  ['SELECT * FROM t WHERE id = 42 AND score > -3.5e2', 'SELECT * FROM t WHERE id = ? AND score > ?'],
  ['SELECT id FROM questions WHERE id = $1', 'SELECT id FROM questions WHERE id = $1'],
  ["INSERT INTO questions (text) VALUES ('What''s new?') RETURNING id", 'INSERT INTO questions (text) VALUES (?) RETURNING id'],
  ['SELECT col1, table2.col3 FROM table2 LIMIT 10', 'SELECT col1, table2.col3 FROM table2 LIMIT ?'],
  ['SELECT "Col9" FROM t9', 'SELECT "Col9" FROM t9'],
  ["SELECT E'\\n', x'1F', $$secret$$, $tag$more$tag$", 'SELECT ?, ?, ?, ?'],
  ['SELECT count(*)::int AS n FROM questions', 'SELECT count(*)::int AS n FROM questions'],
  ['SELECT * FROM t WHERE k = 0x5EC12E7 AND c = @p1', 'SELECT * FROM t WHERE k = ? AND c = @p1'],
  ["SELECT * FROM [Users1] WHERE name = N'Zoë'", 'SELECT * FROM [Users1] WHERE name = ?'],
];

// MySQL: "…" is a string and a backslash escapes a quote; `…` is an identifier, ? a placeholder.
const MYSQL_CASES: [string, string][] = [
  ["SELECT * FROM t WHERE a = 'secret'", 'SELECT * FROM t WHERE a = ?'],
  ['SELECT * FROM t WHERE a = "secret" AND b = ?', 'SELECT * FROM t WHERE a = ? AND b = ?'],
  ["SELECT * FROM t WHERE a = 'it\\'s secret' AND b = 'x'", 'SELECT * FROM t WHERE a = ? AND b = ?'],
  ['SELECT * FROM t WHERE a = "say \\"secret\\"" OR a = "it""s"', 'SELECT * FROM t WHERE a = ? OR a = ?'],
  ["SELECT `col1`, `2fa` FROM `t1` WHERE n = 42 AND s = _utf8mb4'secret' AND h = X'5EC2E7'", 'SELECT `col1`, `2fa` FROM `t1` WHERE n = ? AND s = ? AND h = ?'],
];

describe('sanitizeSql', () => {
  for (const [input, expected] of CASES) {
    it(`${input} -> ${expected}`, () => {
      assert.equal(sanitizeSql(input), expected);
    });
  }

  for (const [input, expected] of MYSQL_CASES) {
    it(`mysql: ${input} -> ${expected}`, () => {
      assert.equal(sanitizeSql(input, 'mysql'), expected);
      assert.doesNotMatch(sanitizeSql(input, 'mysql'), /secret/);
    });
  }

  it('picks the MySQL dialect from db.system.name (knex reports its driver: mysql2)', () => {
    for (const system of ['mysql', 'mysql2', 'mariadb']) assert.equal(sqlDialectOf(system), 'mysql', system);
    for (const system of ['postgresql', 'microsoft.sql_server', 'sqlite', undefined]) assert.equal(sqlDialectOf(system), 'standard', String(system));
  });

  it('caps huge statements', () => {
    const huge = `SELECT ${'a,'.repeat(100_000)} b`;
    assert.ok(sanitizeSql(huge).length <= 4097);
  });
});
