/**
 * Entry for `node --import @acme/otel-register` and `--require`. With
 * OTEL_SDK_DISABLED=true nothing but that check is loaded.
 */
import { isMainThread } from 'node:worker_threads';
import { isSdkDisabled } from './src/config/sdk-disabled.ts';
import { claimStart } from './src/lifecycle/start-once.ts';
import { isSupportedNodeVersion, MINIMUM_NODE_VERSION } from './src/lifecycle/node-version.ts';
import { isPackageManagerProcess } from './src/lifecycle/tool-process.ts';
import { printLine } from './src/logging.ts';

// Worker threads run --require preloads again, with globals of their own (so
// claimStart cannot see the main thread's SDK): the main thread's SDK is the
// process's one. npm, npx, yarn and pnpm are tools, not the service.
if (isMainThread && !isPackageManagerProcess() && !isSdkDisabled(process.env) && claimStart()) {
  if (isSupportedNodeVersion()) {
    try {
      (require('./src/start.js') as typeof import('./src/start.ts')).start();
    } catch (error) {
      // A broken install (a file missing from node_modules) must not take the app down with it.
      printLine(`tracing is off for this process: ${(error as Error).message.split('\n')[0]}`);
    }
  } else {
    printLine(`Node ${process.versions.node} is older than ${MINIMUM_NODE_VERSION}, which OpenTelemetry JS 3.x needs; tracing is off`);
  }
}
