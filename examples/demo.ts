/**
 * `npm run demo`: the polls app on PostgreSQL, traced to the console, driven
 * through a few requests. Without PostgreSQL on the machine (`apt-get install
 * postgresql`), the Express-only demo runs instead. No collector needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const hasPostgres = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').length > 0;
const args = hasPostgres ? ['examples/run.ts', 'polls-fastify', '--demo'] : ['examples/express-demo.ts'];
if (!hasPostgres) console.log('PostgreSQL is not installed: showing the Express demo (apt-get install postgresql for the polls app)');
execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
