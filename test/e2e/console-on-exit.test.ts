import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript, startApp, type LoaderFlag } from '../support/processes.ts';

let receiver: OtlpReceiver | undefined;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const CONSOLE = { OTEL_TRACES_EXPORTER: 'console' };

/** The printed tree lines of the trace whose root is the script's call to /outer/<n>. */
function traceOfRequest(stdout: string, n: number | string): string[] {
  const lines = stdout.split('\n').filter((line) => /^[0-9a-f]{32} [0-9a-f]{16} /.test(line));
  const root = lines.find((line) => new RegExp(`^[0-9a-f]{32} [0-9a-f]{16} CLIENT .*url\\.path=/outer/${n}( |$)`).test(line));
  assert.ok(root, `a tree for request ${n} in:\n${stdout}`);
  return lines.filter((line) => line.startsWith(root.slice(0, 32)));
}

/** Each of the script's three requests prints as one whole tree: its 4 spans, nested as they were made. */
function assertThreeWholeTrees(stdout: string): void {
  for (const n of [1, 2, 3]) {
    const lines = traceOfRequest(stdout, n);
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`^\\S+ \\S+ CLIENT "GET" \\d+\\.\\dms .*url\\.path=/outer/${n}`));
    assert.match(lines[1]!, new RegExp(`^\\S+ \\S+   └ SERVER "GET" .*url\\.path=/outer/${n}`));
    assert.match(lines[2]!, new RegExp(`^\\S+ \\S+     └ CLIENT "GET" .*url\\.path=/inner/${n}`));
    assert.match(lines[3]!, new RegExp(`^\\S+ \\S+       └ SERVER "GET" .*url\\.path=/inner/${n}`));
  }
}

function runThreeRequests(how: string, flag: LoaderFlag = 'import', env: Record<string, string> = CONSOLE) {
  return runScript('three-requests-then.cjs', { args: [how], flag, env });
}

describe('OTEL_TRACES_EXPORTER=console prints every trace whatever ends the process', () => {
  it('process.exit(0) right after three requests: all three trees are printed, and the exit code is 0 as without us', async () => {
    const result = await runThreeRequests('exit');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assertThreeWholeTrees(result.stdout);
    assert.doesNotMatch(result.stdout, /AFTER/, 'no app code ran after process.exit()');
  });

  it('an uncaught exception: all three trees are printed, and Node\'s error and exit code 1 are as without us', async () => {
    const result = await runThreeRequests('throw');
    const bare = await runThreeRequests('throw', 'none');
    assert.deepEqual([result.code, result.signal], [1, null]);
    assertThreeWholeTrees(result.stdout);
    assert.match(result.stderr, /Error: boom from the app\n\s+at /);
    const normalise = (text: string) => text.replace(/\d+:\d+/g, 'L:C').replace(/^ +at process\.callbackTrampoline \(node:internal\/async_hooks:L:C\)\n/m, '');
    assert.equal(normalise(result.stderr), normalise(bare.stderr), 'stderr is what the app prints without us');
  });

  it('a script that ends by itself (beforeExit): all three trees are printed, exit code 0', async () => {
    const result = await runThreeRequests('natural');
    assert.deepEqual([result.code, result.signal], [0, null], result.stderr);
    assert.equal(result.stderr, '');
    assertThreeWholeTrees(result.stdout);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} right after three requests: all three trees are printed, then the process dies by ${signal} as without us`, async () => {
      const app = await startApp('three-requests-then.cjs', { args: ['signal'], env: CONSOLE });
      const result = await app.stop(signal);
      assert.deepEqual(result, { code: null, signal }, app.stderr());
      assert.equal(app.stderr(), '');
      assertThreeWholeTrees(app.stdout());
    });
  }

  it('process.exit() inside a request: the spans that ended are printed, marked where their parent never ended', async () => {
    const result = await runThreeRequests('mid-request');
    assert.equal(result.code, 0, result.stderr);
    assertThreeWholeTrees(result.stdout);
    const lines = result.stdout.split('\n').filter((line) => /url\.path=\/inner\/never-answered/.test(line));
    assert.equal(lines.length, 2, result.stdout);
    assert.match(lines[0]!, /^\S+ \S+ CLIENT "GET" \d+\.\dms parent=[0-9a-f]{16} \(parent not ended\) /, 'the call made by the unanswered request');
    assert.match(lines[1]!, /^\S+ \S+   └ SERVER "GET" /, 'and what it called, nested under it');
    assert.doesNotMatch(result.stdout, /url\.path=\/outer\/never-answered/, 'spans that never ended are not printed');
  });

  it('otlp,console with process.exit(0): the one exit flush prints the trees and exports the same spans', async () => {
    const service = 'console-and-otlp-exit';
    const result = await runThreeRequests('exit', 'import', {
      OTEL_TRACES_EXPORTER: 'otlp,console',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver!.grpcEndpoint,
      OTEL_SERVICE_NAME: service,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    assert.equal(result.code, 0, result.stderr);
    assertThreeWholeTrees(result.stdout);
    const exported = receiver!.spans.filter((span) => span.resource['service.name'] === service);
    assert.equal(exported.length, 12, 'every printed span reached the collector too');
    for (const n of [1, 2, 3]) assert.ok(exported.some((span) => span.traceId === traceOfRequest(result.stdout, n)[0]!.slice(0, 32)));
  });

  it('process.exit() with a trace larger than a pipe holds: the tree is printed whole, every line', async () => {
    const count = 2_000;
    const result = await runScript('many-spans-then-exit.cjs', { args: [String(count)], env: CONSOLE });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n').filter((line) => /^[0-9a-f]{32} [0-9a-f]{16} /.test(line));
    assert.ok(result.stdout.length > 128 * 1024, `${result.stdout.length} bytes: more than a pipe buffer`);
    assert.equal(lines.length, count + 1, 'the root and every step');
    assert.match(lines[0]!, /^\S+ \S+ INTERNAL "batch" /);
    assert.match(lines.at(-1)!, new RegExp(`^\\S+ \\S+   └ INTERNAL "step ${count - 1}" `), 'the last line is complete');
    assert.ok(lines.every((line) => line.startsWith(lines[0]!.slice(0, 32))), 'one trace');
  });
});
