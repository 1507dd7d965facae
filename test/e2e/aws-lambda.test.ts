import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { APP_DIR, runScript, type LoaderFlag } from '../support/processes.ts';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});

const lambdaEnv = (functionName: string, handler: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
  LAMBDA_TASK_ROOT: path.join(APP_DIR, 'fixtures', 'lambda-task'),
  _HANDLER: handler,
  AWS_LAMBDA_FUNCTION_NAME: functionName,
});

describe('inside AWS Lambda', () => {
  for (const [kind, flag, handler] of [
    ['CommonJS', 'require', 'handler.handler'],
    ['ES module', 'import', 'esm-handler.handler'],
  ] as const satisfies readonly (readonly [string, LoaderFlag, string])[]) {
    it(`a ${kind} handler's invocation is a SERVER span named after the function`, async () => {
      const functionName = `fn-${flag}`;
      const result = await runScript('use-aws-lambda.mjs', { flag, args: kind === 'ES module' ? ['esm'] : [], env: lambdaEnv(functionName, handler) });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /RESULT \{"statusCode":200,"body":"hello world"\}/);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === functionName), 5_000);
      const span = spans.find((s) => s.name === functionName)!;
      assert.equal(span.kind, 'SERVER');
      assert.equal(span.scope.name, '@opentelemetry/instrumentation-aws-lambda');
      assert.equal(span.attributes['faas.invocation_id'], 'c6af9ac6-7b61-11e6-9a41-93e812345678');
    });
  }
});
