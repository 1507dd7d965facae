/**
 * The ways of running Node code (a file, -e, -p, stdin, a REPL, --test,
 * --watch, ESM --eval, a worker from source text) as a table, and a runner
 * that starts one of them bare or with a loader flag and returns what a user
 * sees: stdout, stderr, exit code or signal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { killAtExit } from './leftover-children.ts';
import { APP_DIR, baseEnv, loaderArgs, type LoaderFlag } from './processes.ts';

export interface Way {
  name: string;
  /** Node arguments after the loader flag. */
  args: string[];
  stdin?: string;
  /** For a process that never ends by itself (--watch): stop it once stdout matches. */
  stopWhen?: RegExp;
  /** Rewrites what legitimately differs between two runs (timings). */
  normalize?: (stdout: string) => string;
  /** Runs source text (no script file of its own). */
  sourceText?: boolean;
}

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The same lines, as CommonJS and as an ES module, for the ways that take source text.
// Requiring a package from -e is what @koa/router's own CommonJS-export tests do.
const PRINT_CJS = "const Router = require('@koa/router'); console.log(`router ${typeof Router} eol ${require('node:os').EOL.length} main ${require.main === module}`)";
const PRINT_ESM = "import os from 'node:os'; import Router from '@koa/router'; console.log(`router ${typeof Router} eol ${os.EOL.length}`)";

export const WAYS: readonly Way[] = [
  { name: 'a CommonJS file', args: ['fixtures/ways-to-run/print.cjs'] },
  { name: 'an ES module file', args: ['fixtures/ways-to-run/print.mjs'] },
  { name: '-e', args: ['-e', PRINT_CJS], sourceText: true },
  { name: '-p', args: ['-p', "`router ${typeof require('@koa/router')} eol ${require('node:os').EOL.length}`"], sourceText: true },
  { name: '--eval with --input-type=module', args: ['--input-type=module', '--eval', PRINT_ESM], sourceText: true },
  { name: 'code piped on stdin', args: [], stdin: PRINT_CJS, sourceText: true },
  { name: 'a REPL fed on stdin', args: ['-i'], stdin: "const Router = require('@koa/router')\ntypeof Router\nrequire('node:os').EOL.length\n.exit\n", sourceText: true },
  { name: 'a worker thread started with eval: true', args: ['fixtures/ways-to-run/worker-eval.cjs'], sourceText: true },
  { name: '--test', args: ['--test', '--test-reporter=tap', 'fixtures/ways-to-run/print.test.cjs'], normalize: (stdout) => stdout.replace(/duration_ms:? [\d.]+/g, 'duration_ms N') },
  { name: '--watch (until its first run completes)', args: ['--watch', 'fixtures/ways-to-run/print.cjs'], stopWhen: /Completed running/ },
];

export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string | undefined;
  stopWhen?: RegExp | undefined;
  nodeBinary?: string | undefined;
}

export function runNode(args: string[], flag: LoaderFlag, options: RunOptions = {}): Promise<Outcome> {
  const { args: flagArgs, nodeOptions } = loaderArgs(flag);
  // Nothing to export to unless a test sets an endpoint: the table compares behaviour.
  const env = baseEnv({ OTEL_TRACES_EXPORTER: 'none', ...options.env });
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const child = spawn(options.nodeBinary ?? process.execPath, [...flagArgs, ...args], { cwd: APP_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
  killAtExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (options.stopWhen?.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  // Generous: Node 22.15 runs on a busy 2-core machine take up to ~10 s.
  const timer = setTimeout(() => {
    stderr += '\n[test: killed, still running after 60 s]';
    child.kill('SIGKILL');
  }, 60_000);
  return once(child, 'close').then(([code, signal]) => {
    clearTimeout(timer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
}

/**
 * One suite a way: bare once, then with each flag (side by side: they are
 * independent processes), each compared with bare on stdout (timings aside),
 * exit code or signal, and stderr.
 */
export function describeWaysComparedWithBare(ways: readonly Way[], flags: readonly LoaderFlag[], nodeBinary: () => string | undefined = () => undefined, suffix = ''): void {
  for (const way of ways) {
    describe(`${way.name}${suffix}`, { concurrency: flags.length }, () => {
      let bare: Promise<Outcome> | undefined;
      const runBare = () => (bare ??= runNode(way.args, 'none', { ...way, nodeBinary: nodeBinary() }));
      for (const flag of flags) {
        it(`${way.name}, loader via ${flag}${suffix}: same stdout and exit as bare`, async () => {
          const expected = await runBare();
          assert.ok(expected.stdout.length > 0, `bare printed nothing:\n${expected.stderr}`);
          const actual = await runNode(way.args, flag, { ...way, nodeBinary: nodeBinary() });
          const normalize = way.normalize ?? ((stdout: string) => stdout);
          assert.equal(normalize(actual.stdout), normalize(expected.stdout), `stderr with the loader:\n${actual.stderr}`);
          assert.deepEqual({ code: actual.code, signal: actual.signal }, { code: expected.code, signal: expected.signal }, actual.stderr);
          assert.equal(actual.stderr, expected.stderr, 'nothing more or less on stderr');
        });
      }
    });
  }
}
