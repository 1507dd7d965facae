import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPackageManagerProcess } from '../../../src/lifecycle/tool-process.ts';

const node = '/usr/bin/node';

describe('isPackageManagerProcess', () => {
  const tools = [
    '/usr/bin/npm',
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/lib/node_modules/npm/bin/npx-cli.js',
    '/usr/local/bin/npx',
    '/home/u/.nvm/versions/node/v24.1.0/lib/node_modules/npm/bin/npm-prefix.js',
    '/usr/local/lib/node_modules/yarn/bin/yarn.js',
    '/usr/local/bin/yarnpkg',
    '/app/.yarn/releases/yarn-4.5.0.cjs',
    'C:\\app\\.yarn\\releases\\yarn-3.6.4.cjs',
    '/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs',
    '/root/.local/share/pnpm/pnpx',
    '/usr/lib/node_modules/corepack/dist/pnpm.js',
    '/usr/lib/node_modules/corepack/dist/corepack.js',
  ];
  for (const script of tools) {
    it(`${script} is a package manager`, () => assert.equal(isPackageManagerProcess([node, script], {}), true));
  }

  const apps = ['/app/server.js', '/app/dist/main.mjs', '/app/node_modules/.bin/next', '/app/npm-tools/index.js', '/app/src/yarn-stats.js', '/app/pnpm.config.js'];
  for (const script of apps) {
    it(`${script} is an app`, () => assert.equal(isPackageManagerProcess([node, script], {}), false));
  }

  it('`npm start` exports npm_lifecycle_event and npm_execpath to the app: still an app', () => {
    const env = { npm_lifecycle_event: 'start', npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js', npm_command: 'start' };
    assert.equal(isPackageManagerProcess([node, '/app/server.js'], env), false);
  });

  it('a CLI started under another name but equal to npm_execpath is npm', () => {
    assert.equal(isPackageManagerProcess([node, '/opt/tools/pm.js'], { npm_execpath: '/opt/tools/pm.js' }), true);
  });

  it('node with no script (a REPL, -e, -p) is not a package manager', () => {
    assert.equal(isPackageManagerProcess([node], {}), false);
    assert.equal(isPackageManagerProcess([node, ''], {}), false);
  });
});
