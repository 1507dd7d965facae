import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { APP_DIR } from '../support/app-dir.ts';
import { baseEnv } from '../support/processes.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'otel-register-broken-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('a broken install', () => {
  it('the SDK bundle failing to load leaves the app running untraced, with one line saying why', () => {
    // A copy of the installed package whose start.js throws as a file missing from node_modules would.
    const installed = path.join(APP_DIR, 'node_modules', '@acme', 'otel-register');
    const broken = path.join(scratch, 'otel-register');
    cpSync(installed, broken, { recursive: true, dereference: true });
    writeFileSync(path.join(broken, 'dist', 'src', 'start.js'), "require('@opentelemetry/no-such-package');\n");
    const app = path.join(scratch, 'app.cjs');
    writeFileSync(app, "console.log('the app ran'); process.exitCode = 7;\n");
    const result = spawnSync(process.execPath, ['--import', path.join(broken, 'dist', 'register.js'), app], { env: baseEnv(), encoding: 'utf8', cwd: scratch });
    assert.equal(result.status, 7, result.stderr);
    assert.equal(result.stdout, 'the app ran\n');
    assert.match(result.stderr, /^@acme\/otel-register: tracing is off for this process: Cannot find module '@opentelemetry\/no-such-package'\n$/);
  });
});
