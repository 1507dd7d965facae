// The polls app (questions, choices, vote, results) on Fastify 5 and
// PostgreSQL through pg: CommonJS, no tracing code. Trace it with
//   node --import @acme/otel-register examples/polls-fastify/app.cjs
// DATABASE_URL points at PostgreSQL; PORT as on Cloud Run (default 8080).
const fastify = require('fastify');
const { Pool } = require('pg');
const { createSchema, seed } = require('../shared/polls-schema.cjs');

const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/polls', max: 5 });
const app = fastify();

app.get('/healthz', async () => ({ ok: true }));

app.get('/polls', async () => {
  const { rows } = await pool.query('SELECT id, text, pub_date FROM questions ORDER BY pub_date DESC LIMIT 5');
  return rows;
});

app.get('/polls/:id', async (request, reply) => {
  const question = await pool.query('SELECT id, text FROM questions WHERE id = $1', [request.params.id]);
  if (question.rowCount === 0) return reply.code(404).send({ error: 'no such poll' });
  const choices = await pool.query('SELECT id, text FROM choices WHERE question_id = $1 ORDER BY id', [request.params.id]);
  return { ...question.rows[0], choices: choices.rows };
});

app.post('/polls/:id/vote', async (request, reply) => {
  const choice = Number(request.body?.choice);
  const result = await pool.query('UPDATE choices SET votes = votes + 1 WHERE id = $1 AND question_id = $2 RETURNING id', [choice, request.params.id]);
  if (result.rowCount === 0) return reply.code(400).send({ error: 'no such choice' });
  return { voted: choice };
});

app.get('/polls/:id/results', async (request) => {
  // A literal on purpose: the trace shows it sanitized to a placeholder.
  const { rows } = await pool.query(`SELECT text, votes FROM choices WHERE question_id = ${Number(request.params.id)} AND votes >= 0 ORDER BY votes DESC`);
  return rows;
});

async function main() {
  await createSchema(pool);
  await seed(pool);
  const address = await app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`LISTENING ${new URL(address).port}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
