import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimeError } from '../src/errors.js';
import { HASH_ALGOS, hashBytes, hashFile } from '../src/hash/digest.js';
import { hashNar, hashPath } from '../src/nar/hash.js';
import {
  checkStoreName,
  hashPartOf,
  isStorePathIn,
  makeFixedOutputPath,
  makeStorePath,
  makeTextPath,
  storePathName,
} from '../src/store/paths.js';
import { hasNix, isolatedNixStore, makeTestTree, pseudoRandomBytes, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

let work: string;
let tree: string;
let file: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-store-paths-'));
  tree = join(work, 'tree');
  makeTestTree(tree);
  file = join(work, 'data.bin');
  writeFileSync(file, pseudoRandomBytes(65537, 42));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

warnIfNoNix('store paths compared with nix-store --add, --add-fixed, --print-fixed-path and builtins.toFile');

describe.skipIf(!hasNix)('store paths against Nix 2.8', () => {
  let nix: NixStore;
  beforeAll(() => {
    nix = isolatedNixStore();
  });
  afterAll(() => nix.cleanup());

  it('nix-store --add of a tree and of a file: recursive sha256 "source" paths', async () => {
    for (const p of [tree, file]) {
      const { narHash } = await hashPath(p);
      const expected = nix.text('nix-store', ['--add', p]);
      const name = p === tree ? 'tree' : 'data.bin';
      expect(makeFixedOutputPath(nix.storeDir, name, { method: 'recursive', algo: 'sha256', digest: narHash })).toBe(expected);
    }
  });

  it.each(HASH_ALGOS)('nix-store --add-fixed --recursive %s of the tree', async (algo) => {
    const expected = nix.text('nix-store', ['--add-fixed', '--recursive', algo, tree]);
    const digest = await hashNar(tree, algo);
    expect(makeFixedOutputPath(nix.storeDir, 'tree', { method: 'recursive', algo, digest })).toBe(expected);
  });

  it.each(HASH_ALGOS)('nix-store --add-fixed %s of a file (flat)', async (algo) => {
    const expected = nix.text('nix-store', ['--add-fixed', algo, file]);
    const digest = await hashFile(file, algo);
    expect(makeFixedOutputPath(nix.storeDir, 'data.bin', { method: 'flat', algo, digest })).toBe(expected);
  });

  it('nix-store --print-fixed-path for every method, algorithm and some odd names', () => {
    for (const algo of HASH_ALGOS) {
      const digest = hashBytes('print-fixed-path', algo);
      for (const recursive of [false, true]) {
        for (const name of ['x', '.dotfile', 'a+b-c.d_e?f=g', 'N'.repeat(211)]) {
          const args = ['--print-fixed-path', ...(recursive ? ['--recursive'] : []), algo, digest.toString('hex'), name];
          const ca = { method: recursive ? ('recursive' as const) : ('flat' as const), algo, digest };
          expect(makeFixedOutputPath(nix.storeDir, name, ca)).toBe(nix.text('nix-store', args));
        }
      }
    }
  });

  it('builtins.toFile: text paths, with and without references', async () => {
    writeFileSync(join(work, 'input.txt'), 'referenced\n');
    writeFileSync(
      join(work, 'text.nix'),
      '{ plain = builtins.toFile "plain" "hello\\n"; withRef = builtins.toFile "with-ref" "see ${./input.txt}"; }',
    );
    const out = JSON.parse(nix.text('nix-instantiate', ['--eval', '--strict', '--json', join(work, 'text.nix')])) as {
      plain: string;
      withRef: string;
    };
    expect(makeTextPath(nix.storeDir, 'plain', 'hello\n', [])).toBe(out.plain);
    const { narHash } = await hashPath(join(work, 'input.txt'));
    const src = makeFixedOutputPath(nix.storeDir, 'input.txt', { method: 'recursive', algo: 'sha256', digest: narHash });
    expect(makeTextPath(nix.storeDir, 'with-ref', `see ${src}`, [src])).toBe(out.withRef);
  });

  it.each(['', 'has space', 'slash/name', 'ümlaut', 'N'.repeat(212)])('Nix and checkStoreName both refuse the name %j', (name) => {
    expect(() => checkStoreName(name)).toThrow(SlimeError);
    const digest = hashBytes('x').toString('hex');
    expect(() => nix.run('nix-store', ['--print-fixed-path', 'sha256', digest, name])).toThrow();
  });
});

describe('store path helpers', () => {
  const storeDir = '/nix/store';
  const digest = hashBytes('helpers');
  const p = makeFixedOutputPath(storeDir, 'hello-2.12', { method: 'recursive', algo: 'sha256', digest });

  it('makeStorePath is the fingerprint hashed, folded and in base32', () => {
    expect(p).toMatch(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-hello-2\.12$/);
    expect(makeStorePath('source', digest, 'hello-2.12', storeDir)).toBe(p);
  });

  it('references change a source path, but not their order or repetition', () => {
    const ca = { method: 'recursive' as const, algo: 'sha256' as const, digest };
    const withRefs = makeFixedOutputPath(storeDir, 'x', ca, [p, `${storeDir}/${'0'.repeat(32)}-a`]);
    expect(withRefs).not.toBe(makeFixedOutputPath(storeDir, 'x', ca));
    expect(makeFixedOutputPath(storeDir, 'x', ca, [`${storeDir}/${'0'.repeat(32)}-a`, p, p])).toBe(withRefs);
  });

  it('refuses references on a flat path and a digest of the wrong size', () => {
    expect(() => makeFixedOutputPath(storeDir, 'x', { method: 'flat', algo: 'sha256', digest }, [p])).toThrow(
      /only paths hashed recursively with sha256 may have references/,
    );
    expect(() => makeFixedOutputPath(storeDir, 'x', { method: 'flat', algo: 'sha1', digest })).toThrow(/sha1 hash is 32 bytes, not 20/);
  });

  it('checkStoreName names the bad name and character', () => {
    expect(() => checkStoreName('hello world')).toThrow(/invalid store path name "hello world": it contains " "/);
    expect(() => checkStoreName('')).toThrow(/it is empty/);
    expect(() => checkStoreName('a'.repeat(212))).toThrow(/212 characters long, more than 211/);
    expect(() => checkStoreName('a+b-c.d_e?f=g')).not.toThrow();
  });

  it('hashPartOf, storePathName and isStorePathIn', () => {
    expect(hashPartOf(p)).toBe(p.slice(storeDir.length + 1, storeDir.length + 33));
    expect(storePathName(p)).toBe('hello-2.12');
    expect(() => hashPartOf('/nix/store/short-name')).toThrow(/'\/nix\/store\/short-name' is not a store path/);
    expect(isStorePathIn(storeDir, p)).toBe(true);
    expect(isStorePathIn('/other/store', p)).toBe(false);
    expect(isStorePathIn(storeDir, `${p}/bin/hello`)).toBe(false);
    expect(isStorePathIn(storeDir, `${storeDir}/${'e'.repeat(32)}-x`)).toBe(false);
    expect(isStorePathIn(storeDir, `${storeDir}/${'0'.repeat(32)}-`)).toBe(false);
    expect(isStorePathIn(storeDir, `${storeDir}/${'0'.repeat(32)}-bad name`)).toBe(false);
  });
});
