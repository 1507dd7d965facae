// The polls app on NestJS 12 (ESM-only) and PostgreSQL through pg, written
// without decorators so it runs on plain Node. No tracing code: trace it with
//   node --import @acme/otel-register examples/polls-nest/app.js
import 'reflect-metadata';
import { Controller, Get, HttpException, Module, Param, Post, Body } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { createSchema, seed } from '../shared/polls-schema.cjs';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/polls', max: 5 });

class PollsController {
  async list() {
    const { rows } = await pool.query('SELECT id, text, pub_date FROM questions ORDER BY pub_date DESC LIMIT 5');
    return rows;
  }

  async detail(id) {
    const question = await pool.query('SELECT id, text FROM questions WHERE id = $1', [id]);
    if (question.rowCount === 0) throw new HttpException({ error: 'no such poll' }, 404);
    const choices = await pool.query('SELECT id, text FROM choices WHERE question_id = $1 ORDER BY id', [id]);
    return { ...question.rows[0], choices: choices.rows };
  }

  async vote(id, body) {
    const choice = Number(body?.choice);
    const result = await pool.query('UPDATE choices SET votes = votes + 1 WHERE id = $1 AND question_id = $2 RETURNING id', [choice, id]);
    if (result.rowCount === 0) throw new HttpException({ error: 'no such choice' }, 400);
    return { voted: choice };
  }

  async results(id) {
    const { rows } = await pool.query(`SELECT text, votes FROM choices WHERE question_id = ${Number(id)} AND votes >= 0 ORDER BY votes DESC`);
    return rows;
  }
}

class HealthController {
  health() {
    return { ok: true };
  }
}

// What the decorators would do, applied by hand (no build step needed).
function route(decorator, target, name, parameterDecorators = []) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  parameterDecorators.forEach((parameter, index) => parameter(target.prototype, name, index));
  decorator(target.prototype, name, descriptor);
}
Controller('polls')(PollsController);
route(Get(), PollsController, 'list');
route(Get(':id'), PollsController, 'detail', [Param('id')]);
route(Post(':id/vote'), PollsController, 'vote', [Param('id'), Body()]);
route(Get(':id/results'), PollsController, 'results', [Param('id')]);
Controller('healthz')(HealthController);
route(Get(), HealthController, 'health');

class AppModule {}
Module({ controllers: [PollsController, HealthController] })(AppModule);

await createSchema(pool);
await seed(pool);
const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
console.log(`LISTENING ${app.getHttpServer().address().port}`);
