/**
 * A stand-in for the Datadog agent, so dd-trace can be benchmarked with its
 * export on: accepts PUT/POST /v0.4/traces and /v0.5/traces, counts the
 * traces (msgpack headers only) and answers as the agent does. Any other
 * request is answered 404 and remembered, so the bench can show that dd-trace
 * made no other call.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTracesV04, countTracesV05 } from './msgpack-trace-count.ts';

export interface DdAgentStandIn {
  /** For DD_TRACE_AGENT_URL. */
  url: string;
  /** Traces received since the last reset. */
  traces(): number;
  /** Payloads whose body count disagreed with dd-trace's X-Datadog-Trace-Count header, or could not be read. */
  unreadable(): number;
  /** Requests to any other path, "METHOD /path" -> count. */
  readonly otherRequests: Map<string, number>;
  reset(): void;
  close(): Promise<void>;
}

const COUNTERS: Record<string, (body: Uint8Array) => number | undefined> = {
  '/v0.4/traces': countTracesV04,
  '/v0.5/traces': countTracesV05,
};

export async function startDdAgentStandIn(): Promise<DdAgentStandIn> {
  let traces = 0;
  let unreadable = 0;
  const otherRequests = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const counter = COUNTERS[req.url ?? ''];
      if (counter === undefined || (req.method !== 'PUT' && req.method !== 'POST')) {
        const key = `${req.method} ${req.url}`;
        otherRequests.set(key, (otherRequests.get(key) ?? 0) + 1);
        res.writeHead(404).end();
        return;
      }
      const counted = counter(Buffer.concat(chunks));
      const announced = Number(req.headers['x-datadog-trace-count'] ?? Number.NaN);
      if (counted === undefined || (!Number.isNaN(announced) && announced !== counted)) unreadable++;
      traces += counted ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"rate_by_service":{}}');
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    traces: () => traces,
    unreadable: () => unreadable,
    otherRequests,
    reset() {
      traces = 0;
      unreadable = 0;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
