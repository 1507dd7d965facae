// write-file-atomic removes its temporary file through signal-exit (3 in write-file-atomic 3, 4 in 8), deep in many servers' trees.
import { describeExitHookLibraries } from '../support/exit-hook-libraries.ts';

describeExitHookLibraries([
  { name: 'write-file-atomic 3 (signal-exit 3)', fixture: 'use-write-file-atomic.cjs', args: ['write-file-atomic-v3'], removesTmpfile: true },
  { name: 'write-file-atomic 8 (signal-exit 4)', fixture: 'use-write-file-atomic.cjs', args: ['write-file-atomic'], removesTmpfile: true },
]);
