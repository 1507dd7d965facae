// exit-hook ends the process itself with process.exit(): with only a sync hook, while our flush is still in flight.
import { describeExitHookLibraries } from '../support/exit-hook-libraries.ts';

describeExitHookLibraries([
  { name: 'exit-hook (sync hook)', fixture: 'use-exit-hook-sync.mjs' },
  { name: 'exit-hook (sync and async hooks)', fixture: 'use-exit-hook.mjs' },
]);
