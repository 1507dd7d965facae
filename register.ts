/**
 * Entry for `node --import @acme/otel-register` and `--require`. With
 * OTEL_SDK_DISABLED=true nothing but that check is loaded.
 */
import { isSdkDisabled } from './src/config/sdk-disabled.ts';
import { claimStart } from './src/lifecycle/start-once.ts';

if (!isSdkDisabled(process.env) && claimStart()) {
  (require('./src/start.js') as typeof import('./src/start.ts')).start();
}
