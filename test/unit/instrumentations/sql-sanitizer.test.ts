import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeSql } from '../../../src/instrumentations/sql-sanitizer.ts';

const CASES: [string, string][] = [
  ['SELECT * FROM users WHERE email = \'a@b.c\'', 'SELECT * FROM users WHERE email = ?'],
  ['SELECT * FROM t WHERE id = 42 AND score > -3.5e2', 'SELECT * FROM t WHERE id = ? AND score > ?'],
  ['SELECT id FROM questions WHERE id = $1', 'SELECT id FROM questions WHERE id = $1'],
  ["INSERT INTO questions (text) VALUES ('What''s new?') RETURNING id", 'INSERT INTO questions (text) VALUES (?) RETURNING id'],
  ['SELECT col1, table2.col3 FROM table2 LIMIT 10', 'SELECT col1, table2.col3 FROM table2 LIMIT ?'],
  ['SELECT "Col9" FROM t9', 'SELECT "Col9" FROM t9'],
  ["SELECT E'\\n', x'1F', $$secret$$, $tag$more$tag$", 'SELECT ?, ?, ?, ?'],
  ['SELECT count(*)::int AS n FROM questions', 'SELECT count(*)::int AS n FROM questions'],
];

describe('sanitizeSql', () => {
  for (const [input, expected] of CASES) {
    it(`${input} -> ${expected}`, () => {
      assert.equal(sanitizeSql(input), expected);
    });
  }

  it('caps huge statements', () => {
    const huge = `SELECT ${'a,'.repeat(100_000)} b`;
    assert.ok(sanitizeSql(huge).length <= 4097);
  });
});
