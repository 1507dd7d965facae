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

describe('the polls app on Fastify 5 (CommonJS), PostgreSQL and Cloud Run', () => {
  it('every request is one trace: the SERVER span named by its route, pg spans under it, sanitized statements, Cloud Run resource', async () => {
    await runPollsScenario('examples/polls-fastify/app.cjs', 'polls-fastify', receiver, postgres);
  });
});
