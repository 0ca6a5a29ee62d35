/**
 * slime's binary caches and Debian's nix 2.8 read each other's: a cache pushed by
 * slime is accepted by `nix copy --from` with slime's key trusted (and refused with
 * another key), and a cache written by `nix copy --to` is substituted by slime with
 * Nix's key trusted, in each compression.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { slime, tempDir } from './support/cli.js';
import { buildToy, count, events, NIX, nixEnv, outputsIn, realizeWith, removeStore, run, toyModule } from './support/cache.js';

const dir = tempDir('slime-cache-nix-');
const store = path.join(dir, 'store');
const module = toyModule(dir, 'nix-interop');
let base = '';
let top = '';
const env = nixEnv(dir, store);

/** The NAR of a path as nix-store dumps it, as a hex sha256. */
async function narSha(p: string): Promise<string> {
  const r = await run('nix-hash', ['--type', 'sha256', p], env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  const built = await buildToy(dir, store, module);
  expect(built.code, built.stderr).toBe(0);
  top = built.stdout.trim();
  base = path.join(store, outputsIn(store).find((p) => p.endsWith('-base'))!);
  const key = await slime(['key', 'generate', 'slime-test-1', '--dir', dir], { cwd: dir });
  expect(key.code, key.stderr).toBe(0);
  const nixKey = await run('nix-store', ['--generate-binary-cache-key', 'nix-test-1', 'nix.sec', 'nix.pub'], env, dir);
  expect(nixKey.code, nixKey.stderr).toBe(0);
}, 120_000);

describe('a cache pushed by slime, read by nix copy', () => {
  for (const compression of ['zstd', 'xz']) {
    it(`${compression}: accepted with slime's key trusted, refused with another`, async () => {
      const cache = `file://${dir}/slime-${compression}`;
      const push = await slime(['cache', 'push', cache, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'slime-test-1.sec'), '--compression', compression], { cwd: dir });
      expect(push.code, push.stderr).toBe(0);
      expect(push.stderr).toContain('pushed 2 path(s)');
      const narinfo = fs.readFileSync(path.join(dir, `slime-${compression}`, `${path.basename(top).slice(0, 32)}.narinfo`), 'utf8');
      expect(narinfo).toContain(`Compression: ${compression}\n`);
      expect(narinfo).toMatch(/^Sig: slime-test-1:/m);

      const trusted = fs.readFileSync(path.join(dir, 'slime-test-1.pub'), 'utf8').trim();
      const root = path.join(dir, `nixroot-${compression}`);
      const ok = await run('nix', [...NIX, 'copy', '--from', cache, '--to', `local?root=${root}`, '--option', 'trusted-public-keys', trusted, top], env);
      expect(ok.code, ok.stderr).toBe(0);
      // Nix keeps the logical store dir and puts the files under root/nix/store.
      for (const p of [base, top]) expect(await narSha(path.join(root, 'nix/store', path.basename(p)))).toBe(await narSha(p));

      const other = fs.readFileSync(path.join(dir, 'nix.pub'), 'utf8').trim();
      const refused = await run('nix', [...NIX, 'copy', '--from', cache, '--to', `local?root=${dir}/nixroot-refused-${compression}`, '--option', 'trusted-public-keys', other, top], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('lacks a valid signature');
    });
  }

  it('a key made by nix-store --generate-binary-cache-key signs in slime, and nix trusts it', async () => {
    const cache = `file://${dir}/slime-nixkey`;
    const push = await slime(['cache', 'push', cache, top, '--store', store, '--key', path.join(dir, 'nix.sec')], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    const trusted = fs.readFileSync(path.join(dir, 'nix.pub'), 'utf8').trim();
    const ok = await run('nix', [...NIX, 'copy', '--from', cache, '--to', `local?root=${dir}/nixroot-nixkey`, '--option', 'trusted-public-keys', trusted, top], env);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('pushing again uploads nothing', async () => {
    const again = await slime(['cache', 'push', `file://${dir}/slime-zstd`, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'slime-test-1.sec')], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('pushed 0 path(s)');
    expect(again.stderr).toContain('2 already there');
  });
});

describe('a cache written by nix copy --to, substituted by slime', () => {
  for (const compression of ['none', 'xz', 'zstd']) {
    it(`${compression}: every derivation substituted, none built, same bytes`, async () => {
      const root = path.join(dir, 'nixroot-zstd');
      const cache = `file://${dir}/nix-${compression}`;
      const copied = await run('nix', [...NIX, 'copy', '--from', `local?root=${root}`, '--to', `${cache}?compression=${compression}&secret-key=${dir}/nix.sec`, top], env);
      expect(copied.code, copied.stderr).toBe(0);
      const expected = { base: await narSha(base), top: await narSha(top) };

      const fresh = path.join(dir, `store-${compression}`);
      // The same store dir as the cache's: move the original store aside meanwhile.
      fs.renameSync(store, fresh);
      try {
        const trusted = fs.readFileSync(path.join(dir, 'nix.pub'), 'utf8').trim();
        const r = await realizeWith(dir, store, module, ['--substituters', cache, '--trusted-public-keys', trusted]);
        expect(r.code, r.stderr).toBe(0);
        const evs = events(r);
        expect(count(evs, 'substituted')).toBe(2);
        expect(count(evs, 'built')).toBe(0);
        expect(evs.filter((e) => e.type === 'started').map((e) => e.action)).toEqual(['substitute', 'substitute']);
        expect(await narSha(base)).toBe(expected.base);
        expect(await narSha(top)).toBe(expected.top);
        const info = JSON.parse((await slime(['store', 'path-info', top, '--store', store, '--json'])).stdout);
        expect(info.signatures.some((s: string) => s.startsWith('nix-test-1:'))).toBe(true);
        expect(info.references).toEqual([base]);
      } finally {
        removeStore(store);
        fs.renameSync(fresh, store);
      }
    });
  }
});
