import Module from 'node:module';

type ResolveHook = Parameters<typeof Module.registerHooks>[0]['resolve'] & {};
type ResolveResult = ReturnType<ResolveHook>;

/**
 * Registers import-in-the-middle's synchronous hooks (via `registerIitm`)
 * between two thin hooks of ours, so that a require() without a parent gets
 * exactly the answer Node gave.
 *
 * Why: import-in-the-middle 3.6 (create-hook.mjs, finishResolve) takes every
 * resolution without a parentURL for the entry point and fills a missing
 * format with 'commonjs', before its own rule that require() resolutions are
 * left untouched. Node's synchronous resolver gives require() no format, and
 * Node resolves some modules with no parent: `node -e` and `node -p`
 * require('module') before running the code, and Module._load(x, null) does
 * the same for any x. Node then reads a file named `module` (ENOENT) and the
 * process dies, or compiles a .json or .node file as JavaScript.
 *
 * Hooks run last-registered first: the inner hook (registered before
 * import-in-the-middle) sees Node's answer, the outer one (registered after)
 * puts it back. Resolution is synchronous and import-in-the-middle calls
 * nextResolve once, so one slot between them is enough. ESM entry points
 * (the 'import' condition) are not touched: import-in-the-middle's choice
 * there is deliberate. Remove once import-in-the-middle applies its
 * require() rule before its entry-point rule.
 */
export function registerWithParentlessRequireGuard(registerIitm: () => void): void {
  // Set by the inner hook while the outer one waits for import-in-the-middle.
  let nodeAnswer: ResolveResult | undefined;
  const takeNodeAnswer = (): ResolveResult | undefined => {
    const answer = nodeAnswer;
    nodeAnswer = undefined;
    return answer;
  };
  Module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      if (isParentlessRequire(context)) nodeAnswer = result;
      return result;
    },
  });
  registerIitm();
  Module.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!isParentlessRequire(context)) return nextResolve(specifier, context);
      takeNodeAnswer();
      const result = nextResolve(specifier, context);
      const answer = takeNodeAnswer();
      if (answer === undefined || answer.url !== result.url || answer.format === result.format) return result;
      return { ...result, format: answer.format };
    },
  });
}

function isParentlessRequire(context: { parentURL?: string; conditions?: readonly string[] }): boolean {
  return context.parentURL === undefined && context.conditions?.includes('require') === true;
}
