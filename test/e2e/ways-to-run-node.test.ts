/**
 * Every way of running Node code behaves under the loader exactly as bare:
 * a file, -e, -p, stdin, a REPL, --test, --watch, ESM --eval and a worker
 * started from source text, each with --require and --import, on the command
 * line and in NODE_OPTIONS. And code run those ways is still traced.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, spanTree, type OtlpReceiver } from '../support/otlp-receiver.ts';
import type { LoaderFlag } from '../support/processes.ts';
import { describeWaysComparedWithBare, runNode, WAYS, type Way } from '../support/ways-to-run.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

describe('every way of running Node code works under the loader exactly as bare', () => {
  describeWaysComparedWithBare(WAYS, ['require', 'import', 'node-options-require', 'node-options-import']);
});

describe('code run these ways is traced', () => {
  // One request from node:http to a server in the same process: a CLIENT span and its SERVER child.
  const SERVE_AND_GET = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'ways-to-run', 'serve-and-get.cjs'), 'utf8');
  const SERVE_AND_GET_ESM = SERVE_AND_GET.replace("const http = require('node:http');", "import http from 'node:http';");
  // Each way with one flag; -e with both --require forms, which is where it once crashed.
  const TRACED: [Way, LoaderFlag][] = [
    [{ name: 'a file', args: ['fixtures/ways-to-run/serve-and-get.cjs'] }, 'import'],
    [{ name: '-e', args: ['-e', SERVE_AND_GET] }, 'require'],
    [{ name: '-e', args: ['-e', SERVE_AND_GET] }, 'node-options-require'],
    [{ name: '-p', args: ['-p', `(() => { ${SERVE_AND_GET}; return 'started'; })()`] }, 'node-options-require'],
    [{ name: '--eval with --input-type=module', args: ['--input-type=module', '--eval', SERVE_AND_GET_ESM] }, 'require'],
    [{ name: 'code piped on stdin', args: [], stdin: SERVE_AND_GET }, 'node-options-import'],
  ];
  for (const [way, flag] of TRACED) {
    it(`${way.name}, loader via ${flag}: its http request and response reach the collector as CLIENT and SERVER spans`, async () => {
      const service = `way-${way.name}-${flag}`.replace(/[^\w-]+/g, '-');
      const outcome = await runNode(way.args, flag, { ...way, env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service } });
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.match(outcome.stdout, /GOT 200/);
      assert.equal(outcome.stderr, '');
      const mine = (await receiver.waitForSpans((all) => all.filter((s) => s.resource['service.name'] === service).length >= 2, 5_000)).filter((s) => s.resource['service.name'] === service);
      const client = mine.find((s) => s.kind === 'CLIENT');
      const server = mine.find((s) => s.kind === 'SERVER');
      assert.ok(client && server, `a CLIENT and a SERVER span:\n${spanTree(mine)}`);
      assert.equal(server.attributes['url.path'], '/ping');
      assert.equal(server.parentSpanId, client.spanId, `the SERVER span is the CLIENT span's child:\n${spanTree(mine)}`);
    });
  }
});
