/**
 * Entry for `node --import @acme/otel-register` and `--require`. With
 * OTEL_SDK_DISABLED=true nothing but that check is loaded.
 */
import { isSdkDisabled } from './src/config/sdk-disabled.ts';
import { claimStart } from './src/lifecycle/start-once.ts';
import { isSupportedNodeVersion, MINIMUM_NODE_VERSION } from './src/lifecycle/node-version.ts';
import { printLine } from './src/logging.ts';

if (!isSdkDisabled(process.env) && claimStart()) {
  if (isSupportedNodeVersion()) {
    (require('./src/start.js') as typeof import('./src/start.ts')).start();
  } else {
    printLine(`Node ${process.versions.node} is older than ${MINIMUM_NODE_VERSION}, which OpenTelemetry JS 3.x needs; tracing is off`);
  }
}
