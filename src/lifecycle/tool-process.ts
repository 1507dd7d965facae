/**
 * With NODE_OPTIONS="--import @acme/otel-register" in a container, every node
 * process loads us, including `npm ci`, `npx prisma migrate`, `yarn build`.
 * Those are tools, not the service: tracing them would export the package
 * manager's registry calls under the service's name and print our warnings
 * twice. They are recognised by the script node was started with
 * (process.argv[1]), never by npm_* variables alone: `npm start` exports
 * npm_lifecycle_event to the app it starts, and that app must be traced.
 */
import path from 'node:path';

/** Script file names of package manager CLIs (and the corepack shims that stand in for them). */
const TOOL_SCRIPTS = new Set([
  'npm',
  'npx',
  'npm-cli.js',
  'npx-cli.js',
  'yarn',
  'yarnpkg',
  'yarn.js',
  'yarn.cjs',
  'pnpm',
  'pnpx',
  'pnpm.js',
  'pnpm.cjs',
  'pnpx.js',
  'pnpx.cjs',
  'corepack',
  'corepack.js',
  // Our own doctor: it reads the configuration itself and must not start an SDK in its own process.
  'otel-register',
]);

/** Yarn 2+ runs a checked-in release: .yarn/releases/yarn-4.5.0.cjs. */
const YARN_RELEASE = /(?:^|[\\/])\.yarn[\\/]releases[\\/]yarn-[^\\/]*\.c?js$/;
/** Package directories of the CLIs, for launchers with other file names (npm's bin/npm-prefix.js, corepack's dist/*.js). */
const TOOL_PACKAGE_DIR = /[\\/]node_modules[\\/](?:npm|pnpm|yarn|corepack)[\\/](?:bin|dist)[\\/][^\\/]+$|[\\/]otel-register[\\/]dist[\\/]src[\\/]doctor[\\/]cli\.js$/;

export function isPackageManagerProcess(argv: readonly string[] = process.argv, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const script = argv[1];
  if (script === undefined || script === '') return false;
  if (TOOL_SCRIPTS.has(path.basename(script))) return true;
  if (YARN_RELEASE.test(script) || TOOL_PACKAGE_DIR.test(script)) return true;
  // npm sets npm_execpath to its own CLI for the scripts it runs; a nested `npm` started by one of them has that as argv[1].
  const execPath = env.npm_execpath;
  return execPath !== undefined && execPath !== '' && path.resolve(script) === path.resolve(execPath);
}
