import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/app-dir.ts';
import { NODE_TEST_FLAGS } from '../../support/runner-flags.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'otel-register-runner-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm test's runner", () => {
  it('a test file whose before hook fails half way fails within seconds: its after hook stops what was started, so nothing is left to hang the run', async () => {
    const pidFile = path.join(scratch, 'app.pid');
    const started = Date.now();
    const runner = spawn(process.execPath, [...NODE_TEST_FLAGS, path.join(REPO_ROOT, 'test', 'fixtures', 'runner', 'failing-set-up.ts')], {
      cwd: REPO_ROOT,
      // Without NODE_TEST_CONTEXT: a runner started inside a test file would skip its files.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, APP_PID_FILE: pidFile, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: if it hangs, the runner and its test file's process go together.
      detached: true,
    });
    let output = '';
    runner.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => process.kill(-runner.pid!, 'SIGKILL'), 30_000);
    const [code] = (await once(runner, 'close')) as [number | null];
    clearTimeout(timer);
    const seconds = (Date.now() - started) / 1000;
    assert.notEqual(code, null, `the runner hung and was killed after ${seconds} s:\n${output}`);
    assert.equal(code, 1, output);
    assert.ok(seconds < 20, `took ${seconds} s`);
    assert.match(output, /redis-server could not be started/);
    const appPid = Number(readFileSync(pidFile, 'utf8'));
    const until = Date.now() + 2_000;
    while (isAlive(appPid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(isAlive(appPid), false, 'the app the file started ended with it');
  });
});
