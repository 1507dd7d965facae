// async-exit-hook and close-with-grace run the app's (async) shutdown, then end the process themselves with process.exit().
import { describeExitHookLibraries } from '../support/exit-hook-libraries.ts';

describeExitHookLibraries([
  { name: 'async-exit-hook', fixture: 'use-async-exit-hook.cjs' },
  // It listens to signals, errors and beforeExit, not to 'exit'.
  { name: 'close-with-grace', fixture: 'use-close-with-grace.cjs', noCallbackOn: ['process.exit(3)'] },
]);
