import Module from 'node:module';

/**
 * Works around import-in-the-middle 3.6's synchronous resolve hook
 * (register-hooks.mjs), which takes every resolution without a parentURL for
 * the entry point and gives a URL without a .js-like extension
 * `format: 'commonjs'`. Node resolves some builtins with no parent: `node -e`
 * and `node -p` require('module') before running the code, and so does a
 * worker started with `eval: true`. Node then reads a file named `module`
 * (ENOENT) and the process dies before the user's code runs.
 *
 * A `node:` URL is a builtin whatever the hook said, so this hook, registered
 * after import-in-the-middle's (hooks run last-registered first, so it sees
 * that hook's answer), puts the format back. Only parentless `node:` answers
 * are touched: import-in-the-middle never wraps those (they are "entry points"
 * to it), so nothing it instruments changes. Remove once import-in-the-middle
 * keeps builtins out of its entry-point rule.
 */
export function repairBuiltinFormat(): void {
  Module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      if (context.parentURL === undefined && result.url.startsWith('node:') && result.format !== 'builtin') {
        return { ...result, format: 'builtin' };
      }
      return result;
    },
  });
}
