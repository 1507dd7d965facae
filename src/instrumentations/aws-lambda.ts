import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AwsLambdaConfig } from '../config/index.ts';

/**
 * The URL of the handler file, as the ESM hook sees it when the Lambda runtime
 * imports an ES module handler. Resolved the way upstream's
 * AwsLambdaInstrumentation.init() does (instrumentation-aws-lambda 0.76.0):
 * `_HANDLER=src/app.handler` is `<LAMBDA_TASK_ROOT>/src/app` plus `.js`, `.mjs`
 * or `.cjs`. import-in-the-middle only wraps files on its include list, and the
 * handler is loaded by path, never by a bare name.
 */
export function lambdaHandlerFilePattern(lambda: AwsLambdaConfig): RegExp {
  const handler = path.basename(lambda.handler);
  const moduleRoot = lambda.handler.slice(0, lambda.handler.length - handler.length);
  const moduleName = handler.split('.', 1)[0] ?? handler;
  const url = pathToFileURL(path.resolve(lambda.taskRoot, moduleRoot, moduleName)).href;
  return new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.js|\\.mjs|\\.cjs)?$`);
}
