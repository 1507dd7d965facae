import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runPollsScenario } from '../support/polls-scenario.ts';
import { startPostgres, type Postgres } from '../support/services.ts';

let receiver: OtlpReceiver;
let postgres: Postgres;
before(async () => {
  // One after the other: whatever started before a failure is assigned, so `after` can stop it.
  receiver = await startOtlpReceiver();
  postgres = await startPostgres();
});
after(async () => {
  await Promise.all([receiver?.close(), postgres?.stop()]);
});

describe('the polls app on NestJS 12 (ESM only), PostgreSQL and Cloud Run', () => {
  it('every request is one trace: the SERVER span named by its route, pg spans under it, sanitized statements, Cloud Run resource', async () => {
    await runPollsScenario('examples/polls-nest/app.js', 'polls-nest', receiver, postgres);
  });

  it('Nest 12 gets the Nest spans too (upstream supports < 12; we widen the range): app creation and controller handlers', () => {
    const nest = receiver.spans.filter((s) => s.resource['service.name'] === 'polls-nest' && s.attributes['component'] === '@nestjs/core');
    assert.ok(nest.some((s) => s.name === 'Create Nest App'), nest.map((s) => s.name).join(', '));
    const handler = nest.find((s) => s.name === 'PollsController.detail');
    assert.ok(handler, nest.map((s) => s.name).join(', '));
    assert.equal(handler.attributes['nestjs.controller'], 'PollsController');
    assert.equal(handler.attributes['http.route'], '/polls/:id');
    const server = receiver.spans.find((s) => s.kind === 'SERVER' && s.traceId === handler.traceId);
    assert.ok(server, 'the handler span belongs to the request trace');
  });
});
