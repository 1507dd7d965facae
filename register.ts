/**
 * Entry for `node --import @acme/otel-register` and `--require`. With
 * OTEL_SDK_DISABLED=true nothing but that check is loaded.
 */
import { isSdkDisabled, isSdkDisabledQuietly } from './src/config/sdk-disabled.ts';
import { claimStart } from './src/lifecycle/start-once.ts';
import { isSupportedNodeVersion, MINIMUM_NODE_VERSION } from './src/lifecycle/node-version.ts';
import { isPackageManagerProcess } from './src/lifecycle/tool-process.ts';
import { printLine } from './src/logging.ts';

// Worker threads run --require preloads again, with globals of their own (so
// claimStart cannot see the main thread's SDK): the main thread's SDK is the
// process's one. npm, npx, yarn and pnpm are tools, not the service.
if (!isSdkDisabledQuietly(process.env) && isMainThread() && !isPackageManagerProcess() && !isSdkDisabled(process.env) && claimStart()) {
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

/** Required only past the OTEL_SDK_DISABLED check: loading node:worker_threads costs ~3 ms. */
function isMainThread(): boolean {
  return (require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread;
}
