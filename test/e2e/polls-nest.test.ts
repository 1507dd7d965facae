import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runPollsScenario } from '../support/polls-scenario.ts';
import { startPostgres, type Postgres } from '../support/services.ts';

let receiver: OtlpReceiver;
let postgres: Postgres;
before(async () => {
  [receiver, postgres] = await Promise.all([startOtlpReceiver(), startPostgres()]);
});
after(async () => {
  await Promise.all([receiver.close(), postgres.stop()]);
});

describe('the polls app on NestJS 12 (ESM only), PostgreSQL and Cloud Run', () => {
  it('every request is one trace: the SERVER span named by its route, pg spans under it, sanitized statements, Cloud Run resource', async () => {
    await runPollsScenario('examples/polls-nest/app.js', 'polls-nest', receiver, postgres);
  });
});
