// Tables and a first poll for both polls apps, created at start-up if missing.
async function createSchema(pool) {
  await pool.query(`CREATE TABLE IF NOT EXISTS questions (
    id serial PRIMARY KEY, text text NOT NULL, pub_date timestamptz NOT NULL DEFAULT now())`);
  await pool.query(`CREATE TABLE IF NOT EXISTS choices (
    id serial PRIMARY KEY, question_id integer NOT NULL REFERENCES questions(id),
    text text NOT NULL, votes integer NOT NULL DEFAULT 0)`);
}

async function seed(pool) {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM questions');
  if (rows[0].n > 0) return;
  const question = await pool.query("INSERT INTO questions (text) VALUES ('What''s new?') RETURNING id");
  for (const text of ['Not much', 'The sky', 'Tracing']) {
    await pool.query('INSERT INTO choices (question_id, text) VALUES ($1, $2)', [question.rows[0].id, text]);
  }
}

module.exports = { createSchema, seed };
