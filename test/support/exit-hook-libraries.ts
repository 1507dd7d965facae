/**
 * The exit-hook library matrix: an app whose only SIGTERM/SIGINT listeners
 * come from one library, on a real install, run bare and with the loader,
 * ended every way we hook, compared on exit status or signal, output (each
 * exit callback once) and, with the loader, spans at the collector. Each
 * test/e2e/exit-hooks-*.test.ts file runs it for a few libraries (a file stays
 * well inside the runner's 120 s on Node 22).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';
import { startApp, type LoaderFlag, type RunningApp } from './processes.ts';

export interface Library {
  name: string;
  fixture: string;
  args?: string[];
  /** write-file-atomic's exit callback is its own: it removes the temporary file (printed as TMPFILE). */
  removesTmpfile?: boolean;
  /** Endings the library does not hook, by its documentation: no callback there, bare or not. */
  noCallbackOn?: Ending[];
}

/** OTEL_BSP_EXPORT_TIMEOUT, so the flush at exit is bounded by it. */
const FLUSH_BOUND_MS = 4_000;
/** Past this a fixture counts as hung. */
export const HANG_LIMIT_MS = 15_000;

export type Ending = 'SIGTERM' | 'SIGINT' | 'a second SIGINT while flushing' | 'the event loop emptying (beforeExit)' | 'process.exit(3)' | 'an uncaught exception';
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
  /** Whether a second SIGINT was sent (only while the app still ran, 300 ms after the first). */
  sentSecondSigint: boolean;
  /** From the moment the ending began (the last signal sent, or the app's GOT line) to the end of the process. */
  endedAfterMs: number;
}

export function isRunning(app: RunningApp): boolean {
  return app.child.exitCode === null && app.child.signalCode === null;
}

/** Runs the library's fixture to its end; `secondSigint` only for that ending: send it if the app still runs. */
async function run(library: Library, ending: Ending, flag: LoaderFlag, options: { env?: Record<string, string>; secondSigint?: boolean } = {}): Promise<Outcome> {
  const how = howOf(ending);
  const app = await startApp(library.fixture, { flag, args: [how, ...(library.args ?? [])], env: options.env, waitForListening: how === 'signal' });
  let endingBeganAt = 0;
  if (how !== 'signal') {
    app.child.stdout!.on('data', () => {
      if (endingBeganAt === 0 && /^GOT /m.test(app.stdout())) endingBeganAt = Date.now();
    });
  }
  let sentSecondSigint = false;
  if (ending === 'SIGTERM' || ending === 'SIGINT') {
    endingBeganAt = Date.now();
    app.child.kill(ending);
  } else if (ending === 'a second SIGINT while flushing') {
    endingBeganAt = Date.now();
    app.child.kill('SIGINT');
    await sleep(300);
    if (options.secondSigint === true && isRunning(app)) {
      endingBeganAt = Date.now();
      app.child.kill('SIGINT');
      sentSecondSigint = true;
    }
  }
  // A process that does not end is killed, so the test fails on its outcome (SIGKILL) instead of timing out.
  const killer = setTimeout(() => app.child.kill('SIGKILL'), HANG_LIMIT_MS);
  const result = await app.exited.finally(() => clearTimeout(killer));
  return { ...result, stdout: app.stdout(), stderr: app.stderr(), sentSecondSigint, endedAfterMs: Date.now() - endingBeganAt };
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

/** Sends `signal`; a process still running HANG_LIMIT_MS later is killed, so the test fails on SIGKILL instead of timing out. */
export async function stopWithin(app: RunningApp, signal: NodeJS.Signals) {
  const killer = setTimeout(() => app.child.kill('SIGKILL'), HANG_LIMIT_MS);
  return app.stop(signal).finally(() => clearTimeout(killer));
}

export function describeExitHookLibraries(libraries: readonly Library[]): void {
  let receiver: OtlpReceiver;
  /** Answers only after the flush bound: a second Ctrl-C arrives while the flush waits for it. */
  let slowReceiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
    slowReceiver = await startOtlpReceiver();
    slowReceiver.setBehaviour({ delayMs: 2 * FLUSH_BOUND_MS });
  });
  after(async () => {
    await receiver?.close();
    await slowReceiver?.close();
  });

  describe('an app whose only exit listeners come from exit-hook libraries ends as it does without us', () => {
    for (const library of libraries) {
      for (const ending of ENDINGS) {
        it(`${library.name}, ended by ${ending}: same exit, each callback once, spans exported`, async () => {
          const service = `${library.fixture}-${library.args?.[0] ?? ''}-${ending}`;
          const secondCtrlC = ending === 'a second SIGINT while flushing';
          const collector = secondCtrlC ? slowReceiver : receiver;
          const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.grpcEndpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: `${FLUSH_BOUND_MS}` };
          // A second Ctrl-C only where the bare app was still running to get one: the same keystrokes for both.
          const [bare, traced] = secondCtrlC
            ? await run(library, ending, 'none', { secondSigint: true }).then(async (bare) => [bare, await run(library, ending, 'import', { env, secondSigint: bare.sentSecondSigint })])
            : await Promise.all([run(library, ending, 'none'), run(library, ending, 'import', { env })]);
          const context = `bare: ${bare.stdout}${bare.stderr}\ntraced: ${traced.stdout}${traced.stderr}`;

          assert.deepEqual({ code: traced.code, signal: traced.signal }, { code: bare.code, signal: bare.signal }, context);
          assert.equal(normalise(traced.stdout), normalise(bare.stdout));
          const ours = traced.stderr.split('\n').filter((line) => line.startsWith('@acme/otel-register:'));
          if (secondCtrlC) {
            // The collector never answers in time: at most one line on the spans not exported (after a second
            // Ctrl-C the exit flush does not even start: close-with-grace, async-exit-hook).
            const expected = traced.sentSecondSigint ? /could not be exported \(no time left to flush\)(, nor the last metric collection \(\d+ metric points\))?$/ : /could not be exported \(/;
            assert.ok(ours.length <= 1 && ours.every((line) => expected.test(line)), traced.stderr);
          } else {
            assert.deepEqual(ours, []);
          }
          const appsOwn = (stderr: string) => stderr.split('\n').filter((line) => !line.startsWith('@acme/otel-register:')).join('\n');
          assert.equal(normalise(appsOwn(traced.stderr)), normalise(bare.stderr));

          const callbacks = callbacksIn(traced.stdout);
          assert.equal(new Set(callbacks).size, callbacks.length, `no callback ran twice:\n${traced.stdout}`);
          if (library.removesTmpfile) {
            const tmpfile = /TMPFILE (\S+)/.exec(traced.stdout)?.[1];
            assert.ok(tmpfile !== undefined && !existsSync(tmpfile), `the temporary file is removed:\n${traced.stdout}`);
          } else if (!(library.noCallbackOn ?? []).includes(ending)) {
            assert.ok(callbacks.length > 0, `the library's callback ran:\n${traced.stdout}`);
          }

          if (secondCtrlC) {
            // The person wants out: at once after the second Ctrl-C, or, for an app that already ended by itself at
            // the first (exit-hook with only a sync hook), within the flush bound.
            const bound = traced.sentSecondSigint ? 2_000 : FLUSH_BOUND_MS + 1_500;
            assert.ok(traced.endedAfterMs < bound, `ended ${traced.endedAfterMs} ms after the last SIGINT`);
            return;
          }
          // Worker start-up for the exit flush takes a moment more on a busy machine.
          assert.ok(traced.endedAfterMs < FLUSH_BOUND_MS + 1_500, `ended ${traced.endedAfterMs} ms after ${ending} began`);
          const serverSpans = () => collector.spans.filter((s) => s.resource['service.name'] === service && s.kind === 'SERVER');
          await collector.waitForSpans(() => serverSpans().length > 0, 3_000).catch(() => undefined);
          // At least once: an export that process.exit() cut short is sent again from the exit flush.
          assert.ok(serverSpans().length >= 1, 'the SERVER span reached the collector');
        });
      }
    }
  });
}
