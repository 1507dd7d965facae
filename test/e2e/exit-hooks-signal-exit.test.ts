// signal-exit re-raises the signal when its listeners are the only ones: with us there, it must still, after our flush.
import { describeExitHookLibraries } from '../support/exit-hook-libraries.ts';

describeExitHookLibraries([
  { name: 'signal-exit 3', fixture: 'use-signal-exit-v3.cjs' },
  { name: 'signal-exit 4 (ESM)', fixture: 'use-signal-exit-v4.mjs' },
]);
