/**
 * Every way of running Node code behaves under the loader exactly as bare:
 * a file, -e, -p, stdin, a REPL, --test, --watch, ESM --eval and a worker
 * started from source text, each with --require and --import, on the command
 * line and in NODE_OPTIONS. And code run those ways is still traced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { oldestSupportedNode } from '../support/oldest-node.ts';
import { startOtlpReceiver, spanTree, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { APP_DIR, baseEnv, loaderArgs, type LoaderFlag } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

interface Way {
  name: string;
  /** Node arguments after the loader flag. */
  args: string[];
  stdin?: string;
  /** For a process that never ends by itself (--watch): stop it once stdout matches. */
  stopWhen?: RegExp;
  /** Rewrites what legitimately differs between two runs (timings). */
  normalize?: (stdout: string) => string;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The same lines, as CommonJS and as an ES module, for the ways that take source text.
// Requiring a package from -e is what @koa/router's own CommonJS-export tests do.
const PRINT_CJS = "const Router = require('@koa/router'); console.log(`router ${typeof Router} eol ${require('node:os').EOL.length} main ${require.main === module}`)";
const PRINT_ESM = "import os from 'node:os'; import Router from '@koa/router'; console.log(`router ${typeof Router} eol ${os.EOL.length}`)";

const WAYS: Way[] = [
  { name: 'a CommonJS file', args: ['fixtures/ways-to-run/print.cjs'] },
  { name: 'an ES module file', args: ['fixtures/ways-to-run/print.mjs'] },
  { name: '-e', args: ['-e', PRINT_CJS] },
  { name: '-p', args: ['-p', "`router ${typeof require('@koa/router')} eol ${require('node:os').EOL.length}`"] },
  { name: '--eval with --input-type=module', args: ['--input-type=module', '--eval', PRINT_ESM] },
  { name: 'code piped on stdin', args: [], stdin: PRINT_CJS },
  { name: 'a REPL fed on stdin', args: ['-i'], stdin: "const Router = require('@koa/router')\ntypeof Router\nrequire('node:os').EOL.length\n.exit\n" },
  { name: 'a worker thread started with eval: true', args: ['fixtures/ways-to-run/worker-eval.cjs'] },
  { name: '--test', args: ['--test', '--test-reporter=tap', 'fixtures/ways-to-run/print.test.cjs'], normalize: (stdout) => stdout.replace(/duration_ms:? [\d.]+/g, 'duration_ms N') },
  { name: '--watch (until its first run completes)', args: ['--watch', 'fixtures/ways-to-run/print.cjs'], stopWhen: /Completed running/ },
];

const FLAGS: LoaderFlag[] = ['require', 'import', 'node-options-require', 'node-options-import'];

interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  stopWhen?: RegExp;
  nodeBinary?: string;
}

function runNode(args: string[], flag: LoaderFlag, options: RunOptions = {}): Promise<Outcome> {
  const { args: flagArgs, nodeOptions } = loaderArgs(flag);
  // Nothing to export to by default: these compare behaviour, the tracing tests below set an endpoint.
  const env = baseEnv({ OTEL_TRACES_EXPORTER: 'none', ...options.env });
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const child = spawn(options.nodeBinary ?? process.execPath, [...flagArgs, ...args], { cwd: APP_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (options.stopWhen?.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return once(child, 'close').then(([code, signal]) => {
    clearTimeout(timer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
}

/** Each way, bare and with each flag: same stdout (timings aside), exit code or signal, and stderr. */
function describeWays(ways: readonly Way[], nodeName: string, flags: readonly LoaderFlag[], nodeBinary: () => string | undefined): void {
  for (const way of ways) {
    let bare: Promise<Outcome> | undefined;
    const runBare = () => (bare ??= runNode(way.args, 'none', { ...way, nodeBinary: nodeBinary() }));
    for (const flag of flags) {
      it(`${way.name}, loader via ${flag}${nodeName}: same stdout and exit as bare`, async () => {
        const expected = await runBare();
        assert.ok(expected.stdout.length > 0, `bare printed nothing:\n${expected.stderr}`);
        const actual = await runNode(way.args, flag, { ...way, nodeBinary: nodeBinary() });
        const normalize = way.normalize ?? ((stdout: string) => stdout);
        assert.equal(normalize(actual.stdout), normalize(expected.stdout), `stderr with the loader:\n${actual.stderr}`);
        assert.deepEqual({ code: actual.code, signal: actual.signal }, { code: expected.code, signal: expected.signal }, actual.stderr);
        assert.equal(actual.stderr, expected.stderr, 'nothing more or less on stderr');
      });
    }
  }
}

describe('every way of running Node code works under the loader exactly as bare', () => {
  describeWays(WAYS, '', FLAGS, () => undefined);
});

describe('on Node 22.15, the oldest supported (the module.register fallback), too', () => {
  // The ways that run source text, with the flag the Kubernetes Operator injects: there
  // every enabled instrumentation loads up front (~1.5 s of CPU a process), so not all of them.
  const sourceTextWays = WAYS.filter((way) => way.args.length === 0 || way.args.some((arg) => ['-e', '-p', '--eval', '-i'].includes(arg)) || way.name.includes('eval: true'));
  describeWays(sourceTextWays, ' on Node 22.15', ['node-options-require'], oldestSupportedNode);
});

describe('code run these ways is traced', () => {
  // One request from node:http to a server in the same process: a CLIENT span and its SERVER child.
  const SERVE_AND_GET = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'ways-to-run', 'serve-and-get.cjs'), 'utf8');
  const SERVE_AND_GET_ESM = SERVE_AND_GET.replace("const http = require('node:http');", "import http from 'node:http';");
  const TRACED_WAYS: Way[] = [
    { name: 'a file', args: ['fixtures/ways-to-run/serve-and-get.cjs'] },
    { name: '-e', args: ['-e', SERVE_AND_GET] },
    { name: '-p', args: ['-p', `(() => { ${SERVE_AND_GET}; return 'started'; })()`] },
    { name: '--eval with --input-type=module', args: ['--input-type=module', '--eval', SERVE_AND_GET_ESM] },
    { name: 'code piped on stdin', args: [], stdin: SERVE_AND_GET },
  ];
  for (const way of TRACED_WAYS) {
    for (const flag of ['require', 'node-options-require', 'import'] as const) {
      it(`${way.name}, loader via ${flag}: its http request and response reach the collector as CLIENT and SERVER spans`, async () => {
        const service = `way-${way.name}-${flag}`.replace(/[^\w-]+/g, '-');
        const outcome = await runNode(way.args, flag, { ...way, env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service } });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.match(outcome.stdout, /GOT 200/);
        assert.equal(outcome.stderr, '');
        const spans = (await receiver.waitForSpans((all) => all.filter((s) => s.resource['service.name'] === service).length >= 2, 5_000)).filter((s) => s.resource['service.name'] === service);
        const client = spans.find((s) => s.kind === 'CLIENT');
        const server = spans.find((s) => s.kind === 'SERVER');
        assert.ok(client && server, `a CLIENT and a SERVER span:\n${spanTree(spans)}`);
        assert.equal(server.attributes['url.path'], '/ping');
        assert.equal(server.parentSpanId, client.spanId, `the SERVER span is the CLIENT span's child:\n${spanTree(spans)}`);
      });
    }
  }
});
