import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { SqlStatementSanitizingProcessor } from '../../../src/instrumentations/sql-statement-processor.ts';

/** Starts and ends one span the way the named instrumentation does (statement among the start attributes) and returns what is exported. */
function exported(scope: string, attributes: Record<string, string>): Record<string, unknown> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SqlStatementSanitizingProcessor(), new SimpleSpanProcessor({ exporter })] });
  provider.getTracer(scope, '0.0.0').startSpan('query', { attributes }).end();
  const [span] = exporter.getFinishedSpans();
  return { ...span!.attributes };
}

const SECRET_QUERY = "SELECT * FROM t WHERE a = 'secret' AND b = ?";

describe('SqlStatementSanitizingProcessor: instrumentations without a statement hook', () => {
  it('mysql: db.query.text is exported with literals replaced, MySQL "…" strings included', () => {
    const attributes = exported('@opentelemetry/instrumentation-mysql', { 'db.system.name': 'mysql', 'db.query.text': `${SECRET_QUERY} AND c = "secret"` });
    assert.equal(attributes['db.query.text'], 'SELECT * FROM t WHERE a = ? AND b = ? AND c = ?');
  });

  it('tedious: db.query.text is exported with literals replaced, @params and "identifiers" kept', () => {
    const attributes = exported('@opentelemetry/instrumentation-tedious', { 'db.system.name': 'microsoft.sql_server', 'db.query.text': `SELECT "Name" FROM t WHERE a = N'secret' AND b = @b AND n = 7` });
    assert.equal(attributes['db.query.text'], 'SELECT "Name" FROM t WHERE a = ? AND b = @b AND n = ?');
  });

  it('knex: db.query.text is exported with literals replaced, in the dialect of its driver', () => {
    assert.equal(exported('@opentelemetry/instrumentation-knex', { 'db.system.name': 'mysql2', 'db.query.text': "select * from `t` where a = 'it\\'s secret'" })['db.query.text'], 'select * from `t` where a = ?');
    assert.equal(exported('@opentelemetry/instrumentation-knex', { 'db.system.name': 'postgresql', 'db.query.text': `select "a" from "t" where b = 'secret' and c = $1` })['db.query.text'], 'select "a" from "t" where b = ? and c = $1');
  });

  it("leaves other instrumentations' spans alone (pg and mysql2 sanitize through their own hooks)", () => {
    assert.equal(exported('@opentelemetry/instrumentation-pg', { 'db.query.text': "SELECT 'kept'" })['db.query.text'], "SELECT 'kept'");
  });
});
