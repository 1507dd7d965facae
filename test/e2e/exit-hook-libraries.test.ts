/**
 * Apps whose only SIGTERM/SIGINT listeners come from exit-hook libraries end
 * exactly as they do without us: each library, on real installs, run bare and
 * with the loader, ended every way we hook, compared on exit status or signal,
 * output (each exit callback once) and, with the loader, spans at the collector.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startApp, type LoaderFlag, type RunningApp } from '../support/processes.ts';

let receiver: OtlpReceiver;
/** Answers after 2 s: a second Ctrl-C arrives while the flush waits for it. */
let slowReceiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
  slowReceiver = await startOtlpReceiver();
  slowReceiver.setBehaviour({ delayMs: 2_000 });
});
after(async () => {
  await receiver.close();
  await slowReceiver.close();
});

interface Library {
  name: string;
  fixture: string;
  args?: string[];
  /** write-file-atomic's exit callback is its own: it removes the temporary file (printed as TMPFILE). */
  removesTmpfile?: boolean;
  /** Endings the library does not hook, by its documentation: no callback there, bare or not. */
  noCallbackOn?: Ending[];
}

const LIBRARIES: Library[] = [
  { name: 'signal-exit 3', fixture: 'use-signal-exit-v3.cjs' },
  { name: 'signal-exit 4 (ESM)', fixture: 'use-signal-exit-v4.mjs' },
  { name: 'write-file-atomic 3 (signal-exit 3)', fixture: 'use-write-file-atomic.cjs', args: ['write-file-atomic-v3'], removesTmpfile: true },
  { name: 'write-file-atomic 8 (signal-exit 4)', fixture: 'use-write-file-atomic.cjs', args: ['write-file-atomic'], removesTmpfile: true },
  { name: 'exit-hook (sync hook)', fixture: 'use-exit-hook-sync.mjs' },
  { name: 'exit-hook (sync and async hooks)', fixture: 'use-exit-hook.mjs' },
  { name: 'async-exit-hook', fixture: 'use-async-exit-hook.cjs' },
  // It listens to signals, errors and beforeExit, not to 'exit'.
  { name: 'close-with-grace', fixture: 'use-close-with-grace.cjs', noCallbackOn: ['process.exit(3)'] },
];

type Ending = 'SIGTERM' | 'SIGINT' | 'a second SIGINT while flushing' | 'the event loop emptying (beforeExit)' | 'process.exit(3)' | 'an uncaught exception';
const ENDINGS: Ending[] = ['SIGTERM', 'SIGINT', 'a second SIGINT while flushing', 'the event loop emptying (beforeExit)', 'process.exit(3)', 'an uncaught exception'];

/** The fixtures' first argument (test/fixtures/exit-paths.cjs). */
function howOf(ending: Ending): string {
  switch (ending) {
    case 'SIGTERM':
    case 'SIGINT':
    case 'a second SIGINT while flushing':
      return 'signal';
    case 'the event loop emptying (beforeExit)':
      return 'natural';
    case 'process.exit(3)':
      return 'exit';
    case 'an uncaught exception':
      return 'throw';
  }
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the last signal sent (or the start, without one) to the end of the process. */
  endedAfterMs: number;
}

function isRunning(app: RunningApp): boolean {
  return app.child.exitCode === null && app.child.signalCode === null;
}

async function run(library: Library, ending: Ending, flag: LoaderFlag, env: Record<string, string> = {}): Promise<Outcome> {
  const how = howOf(ending);
  let lastSignalAt = Date.now();
  const app = await startApp(library.fixture, { flag, args: [how, ...(library.args ?? [])], env, waitForListening: how === 'signal' });
  if (ending === 'SIGTERM' || ending === 'SIGINT') {
    lastSignalAt = Date.now();
    app.child.kill(ending);
  } else if (ending === 'a second SIGINT while flushing') {
    lastSignalAt = Date.now();
    app.child.kill('SIGINT');
    await sleep(300);
    if (isRunning(app)) {
      lastSignalAt = Date.now();
      app.child.kill('SIGINT');
    }
  }
  const result = await app.exited;
  return { ...result, stdout: app.stdout(), stderr: app.stderr(), endedAfterMs: Date.now() - lastSignalAt };
}

/** What differs between two runs of the same app: ports, temporary file names, stack positions. */
function normalise(text: string): string {
  return text
    .replace(/LISTENING \d+/g, 'LISTENING <port>')
    .replace(/TMPFILE \S+/g, 'TMPFILE <tmpfile>')
    .replace(/\d+:\d+/g, 'L:C')
    .replace(/^ +at process\.callbackTrampoline \(node:internal\/async_hooks:L:C\)\n/m, '');
}

function callbacksIn(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('CALLBACK'));
}

describe('an app whose only exit listeners come from exit-hook libraries ends as it does without us', () => {
  for (const library of LIBRARIES) {
    for (const ending of ENDINGS) {
      it(`${library.name}, ended by ${ending}: same exit, each callback once, spans exported`, async () => {
        const service = `${library.fixture}-${library.args?.[0] ?? ''}-${howOf(ending)}-${ending.length}`;
        const secondCtrlC = ending === 'a second SIGINT while flushing';
        const collector = secondCtrlC ? slowReceiver : receiver;
        const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.grpcEndpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '4000' };
        const [bare, traced] = await Promise.all([run(library, ending, 'none'), run(library, ending, 'import', env)]);

        assert.deepEqual({ code: traced.code, signal: traced.signal }, { code: bare.code, signal: bare.signal }, `bare: ${bare.stdout}${bare.stderr}\ntraced: ${traced.stdout}${traced.stderr}`);
        assert.equal(normalise(traced.stdout), normalise(bare.stdout));
        assert.equal(normalise(traced.stderr), normalise(bare.stderr));
        const callbacks = callbacksIn(traced.stdout);
        assert.equal(new Set(callbacks).size, callbacks.length, `no callback ran twice:\n${traced.stdout}`);
        if (library.removesTmpfile) {
          const tmpfile = /TMPFILE (\S+)/.exec(traced.stdout)?.[1];
          assert.ok(tmpfile !== undefined && !existsSync(tmpfile), `the temporary file is removed:\n${traced.stdout}`);
        } else if (!(library.noCallbackOn ?? []).includes(ending)) {
          assert.ok(callbacks.length > 0, `the library's callback ran:\n${traced.stdout}`);
        }
        if (secondCtrlC) {
          // The person wants out: no waiting for the collector's answer (2 s away).
          assert.ok(traced.endedAfterMs < 1_500, `ended ${traced.endedAfterMs} ms after the last SIGINT`);
        } else {
          assert.ok(traced.endedAfterMs < 4_000, `ended ${traced.endedAfterMs} ms after ${ending}`);
          await receiver.waitForSpans((spans) => spans.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'), 2_000).catch(() => undefined);
          assert.equal(receiver.spans.filter((s) => s.resource['service.name'] === service && s.kind === 'SERVER').length, 1, 'the SERVER span reached the collector');
        }
      });
    }
  }
});
