/**
 * The Express-only demo (used by `npm run demo` when PostgreSQL is missing): builds the package, then runs a small Express app under
 * `node --import @acme/otel-register` with the console exporter, sends it a
 * few requests and stops it, so you see the traces it printed. No collector needed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

const app = spawn(process.execPath, ['--import', '@acme/otel-register', path.join(root, 'test', 'fixtures', 'use-express.cjs')], {
  cwd: root,
  env: { ...process.env, OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'demo' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
app.stdout!.pipe(process.stdout);
const [line] = (await once(app.stdout!, 'data')) as [Buffer];
const port = /LISTENING (\d+)/.exec(line.toString())?.[1];
for (const url of ['/users/42', '/chain']) {
  const response = await fetch(`http://127.0.0.1:${port}${url}`);
  console.log(`\n> GET ${url} -> ${response.status} ${await response.text()}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
}
app.kill('SIGTERM');
await once(app, 'close');
