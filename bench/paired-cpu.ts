/**
 * `node bench/paired-cpu.ts http|express [rounds] label=path/to/register.js|bare …`:
 * server CPU µs per request (utime+stime from /proc/<pid>/stat over the
 * requests served) for builds side by side, OTEL_TRACES_EXPORTER=none.
 * Every variant's server runs at the same time on CPU 0, each under its own
 * wrk on CPU 1, so load from other processes on a shared machine hits all of
 * them alike: compare variants within a run, not across runs (absolute
 * figures are higher than solo ones, as the servers share a core).
 * `label=path|NAME:value;NAME:value` adds env vars to one variant.
 * Build a copy to compare against first, e.g. `cp -r dist /tmp/dist-before`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseProcessCpuTicks } from './proc-stat.ts';

const run = promisify(execFile);
const [app = 'http', roundsArg = '3', ...variants] = process.argv.slice(2);
const SECONDS = 5;
const FIXTURE = path.join(import.meta.dirname, 'fixtures', `${app}-server.cjs`);
const PATH_UNDER_LOAD = app === 'express' ? '/hello/world' : '/';
const USEC_PER_TICK = 1e6 / 100; // USER_HZ

interface Server {
  label: string;
  child: ChildProcess;
  url: string;
}

function cpuTicks(pid: number): number {
  return parseProcessCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? NaN;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

async function served(url: string): Promise<number> {
  return ((await (await fetch(`${url}/__stats`)).json()) as { served: number }).served;
}

function load(url: string, seconds: number) {
  return run('taskset', ['-c', '1', 'wrk', '-t1', '-c50', `-d${seconds}s`, url]);
}

async function start(spec: string): Promise<Server> {
  const [head = '', envSpec = ''] = spec.split('|');
  const [label = head, register = 'bare'] = head.split('=');
  const own = Object.fromEntries(envSpec.split(';').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)] as [string, string]));
  const args = register === 'bare' ? [] : ['--import', path.resolve(register)];
  const env = { PATH: process.env.PATH ?? '', HOME: '/tmp', OTEL_TRACES_EXPORTER: 'none', ...own };
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args, FIXTURE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /LISTENING (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  return { label, child, url: `http://127.0.0.1:${port}` };
}

const results = new Map<string, { us: number; rss: number }[]>();
for (let round = 0; round < Number(roundsArg); round++) {
  const servers: Server[] = [];
  for (const spec of variants) servers.push(await start(spec));
  await Promise.all(servers.map((server) => load(server.url + PATH_UNDER_LOAD, 2)));
  const before = await Promise.all(servers.map(async (server) => ({ ticks: cpuTicks(server.child.pid!), served: await served(server.url) })));
  await Promise.all(servers.map((server) => load(server.url + PATH_UNDER_LOAD, SECONDS)));
  const after = await Promise.all(servers.map(async (server) => ({ ticks: cpuTicks(server.child.pid!), served: await served(server.url) })));
  servers.forEach((server, i) => {
    // The /__stats request between the samples is not load.
    const requests = after[i]!.served - before[i]!.served - 1;
    const list = results.get(server.label) ?? [];
    list.push({ us: ((after[i]!.ticks - before[i]!.ticks) * USEC_PER_TICK) / requests, rss: rssMiB(server.child.pid!) });
    results.set(server.label, list);
  });
  for (const server of servers) {
    server.child.kill('SIGINT');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [label, list] of results) {
  const us = list.map((entry) => entry.us);
  console.log(`${app} ${label.padEnd(12)} CPU ${median(us).toFixed(1)} µs/request (${Math.min(...us).toFixed(1)}–${Math.max(...us).toFixed(1)}, ${us.length} rounds)  RSS ${median(list.map((entry) => entry.rss)).toFixed(0)} MiB`);
}
