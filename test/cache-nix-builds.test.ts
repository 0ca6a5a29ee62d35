/**
 * Building elsewhere: slime's derivations built by Debian's nix 2.8, and the results
 * shared back through a binary cache (docs/architecture.md, "Building elsewhere").
 * Nothing is built by slime: `slime cache push --only-derivations` uploads the .drv
 * closure of a target that is not built; Nix copies it (`nix copy --derivation`),
 * realises it in a store of its own, and pushes the outputs, signed with its key;
 * `slime realize` then substitutes every output and builds none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { slime, tempDir } from './support/cli.js';
import { count, events, NIX, nixEnv, outputsIn, realizeWith, run, toyModule } from './support/cache.js';

const dir = tempDir('slime-nix-builds-');
const store = path.join(dir, 'store');
const module = toyModule(dir, 'nix-builds');
const cache = `file://${dir}/cache`;
const nixRoot = path.join(dir, 'nixroot');
const env = {
  ...nixEnv(dir, store),
  // A chroot store builds in a sandbox: the toy's builders run the host's /bin/sh and coreutils.
  NIX_CONFIG: 'build-users-group =\nsandbox-paths = /bin /usr /lib /lib64\nsubstituters =',
};
let slimePub = '';
let nixPub = '';
let topDrv = '';

beforeAll(async () => {
  const key = await slime(['key', 'generate', 'slime-builds-1', '--dir', dir], { cwd: dir });
  expect(key.code, key.stderr).toBe(0);
  slimePub = fs.readFileSync(path.join(dir, 'slime-builds-1.pub'), 'utf8').trim();
  const nixKey = await run('nix-store', ['--generate-binary-cache-key', 'nix-builds-1', 'nix.sec', 'nix.pub'], env, dir);
  expect(nixKey.code, nixKey.stderr).toBe(0);
  nixPub = fs.readFileSync(path.join(dir, 'nix.pub'), 'utf8').trim();
}, 60_000);

describe('slime cache push --only-derivations', () => {
  it('uploads the .drv closure of a target that is not built, and prints its .drv path', async () => {
    const push = await slime(['cache', 'push', cache, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'slime-builds-1.sec'), '--only-derivations'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    topDrv = push.stdout.trim();
    expect(topDrv).toMatch(new RegExp(`^${store}/[0-9a-z]{32}-top\\.drv$`));
    expect(push.stderr).toContain('pushed 2 path(s)');
    // Nothing was built, and the cache holds the two .drv files only.
    expect(outputsIn(store)).toEqual([]);
    const narinfos = fs.readdirSync(path.join(dir, 'cache')).filter((f) => f.endsWith('.narinfo'));
    expect(narinfos).toHaveLength(2);
    const top = fs.readFileSync(path.join(dir, 'cache', `${path.basename(topDrv).slice(0, 32)}.narinfo`), 'utf8');
    expect(top).toMatch(/^CA: text:sha256:/m);
    expect(top).toMatch(/^References: [0-9a-z]{32}-base\.drv$/m);
  });
});

describe('nix 2.8 builds them and shares the outputs back', () => {
  let nixOut = '';

  it('nix copy --derivation takes the .drv closure', async () => {
    // A .drv is content-addressed (CA text:sha256:...): Nix takes it on its hash, signed or not.
    const copied = await run('nix', [...NIX, 'copy', '--derivation', '--from', cache, '--to', `local?root=${nixRoot}`, '--option', 'trusted-public-keys', slimePub, topDrv], env);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toContain('copying 2 paths');
  });

  it('nix-store --realise builds them, and nix copy --to pushes the outputs signed', async () => {
    const built = await run('nix-store', ['--store', `local?root=${nixRoot}`, '--realise', topDrv], env);
    expect(built.code, built.stderr).toBe(0);
    nixOut = built.stdout.trim();
    expect(nixOut).toMatch(new RegExp(`^${store}/[0-9a-z]{32}-top$`));
    const pushed = await run('nix', [...NIX, 'copy', '--from', `local?root=${nixRoot}`, '--to', `${cache}?secret-key=${dir}/nix.sec`, nixOut], env);
    expect(pushed.code, pushed.stderr).toBe(0);
  }, 120_000);

  it('slime realize substitutes every output Nix built, builds none, and gets the same bytes', async () => {
    const r = await realizeWith(dir, store, module, ['--substituters', cache, '--trusted-public-keys', nixPub]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(nixOut);
    const evs = events(r);
    expect(count(evs, 'substituted')).toBe(2);
    expect(count(evs, 'built')).toBe(0);
    for (const out of outputsIn(store)) {
      const ours = await run('nix-hash', ['--type', 'sha256', path.join(store, out)], env);
      const theirs = await run('nix-hash', ['--type', 'sha256', path.join(nixRoot, 'nix/store', out)], env);
      expect(ours.stdout).toBe(theirs.stdout);
    }
    // Listed by hash, which the temporary store's directory decides: compared as a set.
    expect(outputsIn(store).map((p) => p.slice(33)).sort()).toEqual(['base', 'top']);
    const info = JSON.parse((await slime(['store', 'path-info', nixOut, '--store', store, '--json'])).stdout);
    expect(info.signatures.some((s: string) => s.startsWith('nix-builds-1:'))).toBe(true);
    expect(info.deriver).toBe(topDrv);
  });
});
