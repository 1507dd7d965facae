/**
 * Runs an example app traced to the console (or to OTEL_EXPORTER_OTLP_ENDPOINT
 * when set), with throwaway PostgreSQL/Redis servers when DATABASE_URL /
 * REDIS_URL are not given:
 *   npm run example -- polls-fastify | polls-nest | chain   (Ctrl-C to stop)
 *   npm run example -- polls-fastify --demo                 (sends a few requests, prints the traces, exits)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { startPostgres, startRedis } from '../test/support/services.ts';

const root = path.resolve(import.meta.dirname, '..');
const [name = 'polls-fastify', ...flags] = process.argv.slice(2);
const demo = flags.includes('--demo');
const cleanups: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];

execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

async function startTraced(script: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', '@acme/otel-register', path.join(root, 'examples', script)], {
    cwd: root,
    env: { ...process.env, OTEL_TRACES_EXPORTER: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'console', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  child.stdout!.pipe(process.stdout);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += String(chunk);
      const port = /LISTENING (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child.once('close', () => reject(new Error(`${script} exited before listening`)));
  });
}

async function stopAll(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'close') : undefined)));
  for (const cleanup of cleanups) await cleanup();
}

async function databaseUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const postgres = await startPostgres('polls');
  cleanups.push(() => postgres.stop());
  return postgres.url;
}

async function show(url: string, init?: RequestInit): Promise<void> {
  const response = await fetch(url, init);
  console.log(`\n> ${init?.method ?? 'GET'} ${new URL(url).pathname} -> ${response.status} ${await response.text()}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

let entry: string;
if (name === 'polls-fastify' || name === 'polls-nest') {
  const script = name === 'polls-fastify' ? 'polls-fastify/app.cjs' : 'polls-nest/app.js';
  entry = await startTraced(script, { OTEL_SERVICE_NAME: name, DATABASE_URL: await databaseUrl(), PORT: demo ? '0' : '8080', ACME_OTEL_IGNORE_PATHS: '/healthz' });
  console.log(`\n${name} on ${entry}: try ${entry}/polls/1, POST ${entry}/polls/1/vote {"choice":1}, ${entry}/polls/1/results`);
  if (demo) {
    await show(`${entry}/polls/1`);
    await show(`${entry}/polls/1/vote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"choice":3}' });
    await show(`${entry}/polls/1/results`);
  }
} else if (name === 'chain') {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    redisUrl = redis.url;
  }
  const port = (n: number) => (demo ? '0' : String(n));
  const prices = await startTraced('chain/prices-http.mjs', { OTEL_SERVICE_NAME: 'prices', PORT: port(8083) });
  const inventory = await startTraced('chain/inventory-koa.mjs', { OTEL_SERVICE_NAME: 'inventory', PRICES_URL: prices, PORT: port(8082) });
  entry = await startTraced('chain/orders-express.cjs', { OTEL_SERVICE_NAME: 'orders', INVENTORY_URL: inventory, REDIS_URL: redisUrl, PORT: port(8081) });
  console.log(`\nchain: try ${entry}/orders/17`);
  if (demo) await show(`${entry}/orders/17`);
} else {
  throw new Error(`unknown example ${name}: polls-fastify, polls-nest or chain`);
}

if (demo) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  await stopAll();
} else {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll());
}
