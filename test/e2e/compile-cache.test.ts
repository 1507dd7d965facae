import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { runScript } from '../support/processes.ts';

let receiver: OtlpReceiver;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'otel-register-compile-cache-'));
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const uid = process.getuid!();
// The `nobody` user of Debian (and most Linux systems).
const NOBODY = 65534;

/** A temp dir of its own for each case: the app's os.tmpdir(), where the loader looks for its per-user folder. */
function tmpdirFor(name: string): { tmpdir: string; cacheDir: string } {
  const tmpdir = path.join(scratch, name);
  mkdirSync(tmpdir);
  return { tmpdir, cacheDir: path.join(tmpdir, `acme-otel-register-compile-cache-${uid}`) };
}

/** Runs the app with the loader; returns the compile cache folder Node reported ('none' when off). Asserts it was traced. */
async function runApp(service: string, env: Record<string, string>): Promise<string> {
  const result = await runScript('report-compile-cache.cjs', { flag: 'require', env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_SERVICE_NAME: service, ...env } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /GOT done/);
  const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.kind === 'SERVER'));
  assert.ok(spans.some((s) => s.resource['service.name'] === service && s.kind === 'CLIENT'), 'the app is traced');
  return /^COMPILE_CACHE (.+)$/m.exec(result.stdout)![1]!;
}

function filesUnder(directory: string): string[] {
  return existsSync(directory) ? readdirSync(directory, { recursive: true, encoding: 'utf8' }) : [];
}

describe('the compile cache belongs to the user who runs the app', () => {
  it('it lives in a folder of this user under the temp dir, created 0700, and is written there', async () => {
    const { tmpdir, cacheDir } = tmpdirFor('fresh');
    const used = await runApp('compile-cache-own', { TMPDIR: tmpdir });
    assert.equal(path.dirname(used), cacheDir);
    const stats = lstatSync(cacheDir);
    assert.equal(stats.uid, uid);
    assert.equal(stats.mode & 0o777, 0o700);
    assert.ok(filesUnder(cacheDir).length > 10, 'compiled code is cached for the next start');
  });

  // Each plants the folder before the app starts, as someone sharing /tmp could.
  const planted: { name: string; plant(cacheDir: string): string }[] = [
    {
      name: 'a folder another user created (owned by nobody, 0700)',
      plant(cacheDir) {
        assert.equal(uid, 0, 'planting a folder of another user needs root (npm test runs as root)');
        mkdirSync(cacheDir, { mode: 0o700 });
        chownSync(cacheDir, NOBODY, NOBODY);
        return cacheDir;
      },
    },
    {
      name: 'a folder of ours that others can write (0777)',
      plant(cacheDir) {
        mkdirSync(cacheDir);
        chmodSync(cacheDir, 0o777);
        return cacheDir;
      },
    },
    {
      name: 'a symlink to a folder of ours',
      plant(cacheDir) {
        const target = path.join(path.dirname(cacheDir), 'elsewhere');
        mkdirSync(target, { mode: 0o700 });
        symlinkSync(target, cacheDir);
        return target;
      },
    },
  ];
  for (const [index, { name, plant }] of planted.entries()) {
    it(`${name} is not used: the app runs without the cache, still traced`, async () => {
      const { tmpdir, cacheDir } = tmpdirFor(`planted-${index}`);
      const folder = plant(cacheDir);
      assert.equal(await runApp(`compile-cache-planted-${index}`, { TMPDIR: tmpdir }), 'none');
      assert.deepEqual(filesUnder(folder), [], 'nothing was written to the planted folder');
    });
  }

  it('NODE_COMPILE_CACHE set by the user wins, and our folder is not even created', async () => {
    const { tmpdir, cacheDir } = tmpdirFor('user-choice');
    const chosen = path.join(tmpdir, 'chosen');
    const used = await runApp('compile-cache-user-choice', { TMPDIR: tmpdir, NODE_COMPILE_CACHE: chosen });
    assert.equal(path.dirname(used), chosen);
    assert.ok(filesUnder(chosen).length > 10);
    assert.equal(existsSync(cacheDir), false);
  });
});
