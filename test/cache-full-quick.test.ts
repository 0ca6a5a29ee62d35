/**
 * The point of the shared cache: `slime realize full-x86_64-quick` into an empty store,
 * with a cache that holds the build, substitutes every derivation the targets need and
 * builds none (the source tarball, the vendored crates and the PyO3 config, build-only inputs, are not needed).
 *
 * It reuses the build that the router tests (router-run, router-light) make in the
 * project store (store/, or $SLIME_TEST_STORE as they take it): `slime realize` here
 * takes the same derivation locks, so when they run at once it waits for that build
 * instead of doing it again, and in CI the whole test costs a push and a substitution
 * (about a minute). The empty store must have the same store dir as the cache, so the
 * substituting run sees an empty directory bind-mounted over the project store in a
 * private mount namespace (`unshare -m`, root only, as in CI); the project store
 * itself is never touched. Without root it is skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, slime, tempDir } from './support/cli.js';
import { count, run } from './support/cache.js';
import { hashPath } from '../src/nar/hash.js';
import { Store } from '../src/store/store.js';

const BUILD_TIMEOUT = 45 * 60_000;
const enabled = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
// The project store, as the router tests use it.
const storeDir = path.resolve(process.env.SLIME_TEST_STORE ?? path.join(ROOT, 'store'));

describe.skipIf(!enabled)('full-x86_64-quick from a cache (root: needs a mount namespace)', () => {
  it(
    'substitutes every derivation of full-x86_64-quick into an empty store and builds none',
    async () => {
      const built = await slime(['realize', 'full-x86_64-quick', '--no-link', '--log-format', 'plain', '--no-substitute', '--store', storeDir], { cwd: ROOT });
      expect(built.code, built.stderr.slice(-3000)).toBe(0);

      const dir = tempDir('slime-cache-full-');
      const key = await slime(['key', 'generate', 'full-quick-1', '--dir', dir], { cwd: ROOT });
      const pub = key.stdout.trim();
      const cache = `file://${dir}/cache`;
      const push = await slime(['cache', 'push', cache, 'full-x86_64-quick', '--key', path.join(dir, 'full-quick-1.sec'), '-j', '2', '--store', storeDir], { cwd: ROOT });
      expect(push.code, push.stderr).toBe(0);

      const empty = path.join(dir, 'empty-store');
      fs.mkdirSync(empty);
      const realize = [CLI, 'realize', 'full-x86_64-quick', '--no-link', '--log-format', 'json', '--store', storeDir, '--substituters', cache, '--trusted-public-keys', pub]
        .map((a) => `'${a}'`)
        .join(' ');
      const r = await run('unshare', ['-m', 'sh', '-c', `mount --bind '${empty}' '${storeDir}' && exec '${process.execPath}' ${realize}`], { ...process.env, CI: '1' }, ROOT);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; action?: string });
      const planned = events.find((e) => e.type === 'planned') as unknown as { derivations: { name: string; drvPath: string; outputs: Record<string, string> }[] };
      expect(count(events, 'built')).toBe(0);
      // Every derivation is substituted but the build-only inputs (the source tarball, the vendored
      // crates, the PyO3 config): no output in the closure refers to them, so nothing needs them, as in Nix.
      const notNeeded = new Set(events.filter((e) => e.type === 'not-needed').map((e) => (e as unknown as { drvPath: string }).drvPath));
      expect(planned.derivations.filter((d) => notNeeded.has(d.drvPath)).map((d) => d.name).sort()).toEqual(['Python-3.11.2.tgz', 'cpython-3.11.2-quick-pyo3-config', 'isolate-crates']);
      expect(count(events, 'substituted')).toBe(planned.derivations.length - notNeeded.size);
      expect(events.filter((e) => e.type === 'started').every((e) => e.action === 'substitute')).toBe(true);
      expect(events.filter((e) => e.type === 'cache-warning')).toEqual([]);
      // What the empty store got is, byte for byte, what the project store has; the rest it did not get.
      const project = new Store(storeDir);
      for (const d of planned.derivations.filter((x) => notNeeded.has(x.drvPath))) {
        for (const out of Object.values(d.outputs)) expect(fs.existsSync(path.join(empty, path.basename(out))), out).toBe(false);
      }
      for (const out of planned.derivations.filter((d) => !notNeeded.has(d.drvPath)).flatMap((d) => Object.values(d.outputs))) {
        const { narHash } = await hashPath(path.join(empty, path.basename(out)));
        expect(`sha256-${narHash.toString('base64')}`, out).toBe(project.queryInfo(out)!.narHash);
      }
      spawnSync('chmod', ['-R', 'u+w', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    BUILD_TIMEOUT,
  );
});
