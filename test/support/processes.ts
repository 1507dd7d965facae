/**
 * Starts fixture apps the way a user would: `node --import @acme/otel-register
 * fixtures/x.mjs` in an app directory where the packed package is installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { killAtExit } from './leftover-children.ts';

export const APP_DIR = process.env.OTEL_REGISTER_TEST_APP ?? path.resolve(import.meta.dirname, '..', '..', '.work', 'test', 'app');

export type LoaderFlag = 'import' | 'require' | 'node-options-import' | 'node-options-require' | 'none';

export interface StartOptions {
  env?: Record<string, string | undefined>;
  flag?: LoaderFlag;
  /** Extra node arguments placed before the script (e.g. a second --import). */
  nodeArgs?: string[];
  args?: string[];
  /** Another Node binary than the one running the tests (e.g. the oldest supported). */
  nodeBinary?: string;
  /** Resolve once stdout shows `LISTENING <port>` (servers) instead of right away. */
  waitForListening?: boolean;
  /** Another app directory than the one with the packed package installed. */
  cwd?: string;
  /** Run as another user (tests run as root in CI). */
  uid?: number;
  gid?: number;
  /** In a process group of its own, so the test can signal the app and its children at once (Ctrl-C, a service manager). */
  detached?: boolean;
}

export interface RunningApp {
  child: ChildProcess;
  port: number;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Env for children: only what a deployment would set, plus fast batching so tests do not wait 5 s. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OTEL_BSP_SCHEDULE_DELAY: '50' };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function loaderArgs(flag: LoaderFlag): { args: string[]; nodeOptions?: string } {
  switch (flag) {
    case 'import':
      return { args: ['--import', '@acme/otel-register'] };
    case 'require':
      return { args: ['--require', '@acme/otel-register'] };
    case 'node-options-import':
      return { args: [], nodeOptions: '--import @acme/otel-register' };
    case 'node-options-require':
      return { args: [], nodeOptions: '--require @acme/otel-register' };
    case 'none':
      return { args: [] };
  }
}

export async function startApp(fixture: string, options: StartOptions = {}): Promise<RunningApp> {
  const { args: flagArgs, nodeOptions } = loaderArgs(options.flag ?? 'import');
  const env = baseEnv(options.env);
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  // 'examples/…' paths run an example app; anything else is a fixture.
  const script = fixture.startsWith('examples/') ? fixture : path.join('fixtures', fixture);
  const child = spawn(options.nodeBinary ?? process.execPath, [...flagArgs, ...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
    cwd: options.cwd ?? APP_DIR,
    env,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  killAtExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': by then stdout and stderr are fully read.
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let port = 0;
  if (options.waitForListening !== false) {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${fixture} did not print LISTENING within 20 s\nstdout: ${stdout}\nstderr: ${stderr}`)), 20_000);
      const check = () => {
        const match = /LISTENING (\d+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout!.on('data', check);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${fixture} exited (code ${code}, signal ${signal}) before listening\nstdout: ${stdout}\nstderr: ${stderr}`));
      });
    });
  }
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a script to completion and returns what it printed. */
export async function runScript(fixture: string, options: StartOptions = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const app = await startApp(fixture, { ...options, waitForListening: false });
  const result = await app.exited;
  return { ...result, stdout: app.stdout(), stderr: app.stderr() };
}
