import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimeError } from '../src/errors.js';
import { fromNixBase32, toNixBase32 } from '../src/hash/base32.js';
import { HASH_ALGOS, compressHash, formatHash, hashBytes, hashFile, parseHash } from '../src/hash/digest.js';
import { ODD_SIZES, hasNix, isolatedNixStore, pseudoRandomBytes, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

// Printed by nix-hash 2.8 for the empty string and for "abc".
const EMPTY_SHA256_BASE32 = '0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73';
const ABC_MD5_BASE32 = '3jgzhjhz9zjvbb0kyj7jc500ch';
const ABC_SHA512_BASE32 =
  '2gs8k559z4rlahfx0y688s49m2vvszylcikrfinm30ly9rak69236nkam5ydvly1ai7xac99vxfc4ii84hawjbk876blyk1jfhkbbyx';

describe('Nix base32', () => {
  it('matches what nix-hash printed for known digests', () => {
    expect(toNixBase32(hashBytes(''))).toBe(EMPTY_SHA256_BASE32);
    expect(toNixBase32(hashBytes('abc', 'md5'))).toBe(ABC_MD5_BASE32);
    expect(toNixBase32(hashBytes('abc', 'sha512'))).toBe(ABC_SHA512_BASE32);
  });

  it('round-trips every length from 0 to 80 bytes', () => {
    for (let n = 0; n <= 80; n++) {
      const b = pseudoRandomBytes(n, n + 7);
      const s = toNixBase32(b);
      expect(s.length).toBe(n === 0 ? 0 : Math.floor((n * 8 - 1) / 5) + 1);
      expect(fromNixBase32(s).equals(b)).toBe(true);
    }
  });

  it('rejects characters outside the alphabet, naming the character', () => {
    const bad = 'e' + EMPTY_SHA256_BASE32.slice(1);
    expect(() => fromNixBase32(bad)).toThrow(SlimeError);
    expect(() => fromNixBase32(bad)).toThrow(/contains 'e'.*not in Nix's alphabet/);
    expect(() => fromNixBase32(EMPTY_SHA256_BASE32.toUpperCase())).toThrow(/contains 'C'/);
  });

  it('rejects lengths that no byte string encodes to, and overflowing first characters', () => {
    expect(() => fromNixBase32('abc')).toThrow(/has length 3, which no byte string encodes to/);
    // 52 chars hold 260 bits; a sha256 has 256, so the first char may only be 0 or 1.
    expect(() => fromNixBase32('z' + EMPTY_SHA256_BASE32.slice(1))).toThrow(/encodes more than 32 bytes/);
  });
});

describe('compressHash', () => {
  it('XOR-folds as Nix does', () => {
    const h = Buffer.from([...Array(32).keys()]);
    const folded = compressHash(h, 20);
    expect(folded.length).toBe(20);
    expect(folded[0]).toBe(0 ^ 20);
    expect(folded[11]).toBe(11 ^ 31);
    expect(folded[12]).toBe(12);
  });
});

describe('parseHash and formatHash', () => {
  const digest = hashBytes('');
  const hex = digest.toString('hex');
  const sri = `sha256-${digest.toString('base64')}`;

  it.each([
    ['base16 with the algorithm given', hex, 'sha256'],
    ['base16 told by its length', hex, undefined],
    ['Nix base32', EMPTY_SHA256_BASE32, undefined],
    ['SRI', sri, undefined],
    ['algo:base16', `sha256:${hex}`, undefined],
    ['algo:base32', `sha256:${EMPTY_SHA256_BASE32}`, 'sha256'],
    ['algo:base64', `sha256:${digest.toString('base64')}`, undefined],
  ] as const)('accepts %s', (_what, text, algo) => {
    const h = parseHash(text, algo);
    expect(h.algo).toBe('sha256');
    expect(h.digest.equals(digest)).toBe(true);
  });

  it('prints every style', () => {
    const h = { algo: 'sha256' as const, digest };
    expect(formatHash(h, 'base16')).toBe(hex);
    expect(formatHash(h, 'base32')).toBe(EMPTY_SHA256_BASE32);
    expect(formatHash(h, 'sri')).toBe(sri);
    expect(formatHash(h, 'nix')).toBe(`sha256:${EMPTY_SHA256_BASE32}`);
  });

  it('round-trips every algorithm through every style', () => {
    for (const algo of HASH_ALGOS) {
      const h = { algo, digest: hashBytes('slime', algo) };
      for (const style of ['base16', 'base32', 'sri', 'nix'] as const) {
        const back = parseHash(formatHash(h, style), algo);
        expect(back.algo).toBe(algo);
        expect(back.digest.equals(h.digest)).toBe(true);
      }
    }
  });

  it.each([
    ['an algorithm other than the one needed', `sha512-${hashBytes('', 'sha512').toString('base64')}`, 'sha256', /is a sha512 hash, but a sha256 hash is needed/],
    ['an unknown algorithm', `blake3:${hex}`, undefined, /names unknown algorithm 'blake3'/],
    ['an ambiguous bare hash', 'a'.repeat(32), undefined, /does not say which algorithm.*'sha256:/],
    ['bad base16 characters', 'g'.repeat(64), 'sha256', /length of base16 but contains characters other than 0-9, a-f/],
    ['a wrong length', `sha256:${hex.slice(2)}`, undefined, /62 characters long, but sha256 needs 64 base16, 52 Nix base32 or 44 base64/],
    ['SRI with base16 inside', `sha256-${hex}`, undefined, /needs 44 base64 characters/],
    ['a base32 typo', `sha256:e${EMPTY_SHA256_BASE32.slice(1)}`, undefined, /contains 'e'/],
  ] as const)('rejects %s with a clear message', (_what, text, algo, message) => {
    expect(() => parseHash(text, algo)).toThrow(SlimeError);
    expect(() => parseHash(text, algo)).toThrow(message);
  });
});

warnIfNoNix('hashFile and base32 compared with nix-hash --flat');

describe('hashFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slime-hash-file-'));
    ODD_SIZES.forEach((size, i) => writeFileSync(join(dir, `f${size}`), pseudoRandomBytes(size, i + 100)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.skipIf(!hasNix)('against nix-hash --flat', () => {
    let nix: NixStore;
    beforeAll(() => {
      nix = isolatedNixStore();
    });
    afterAll(() => nix.cleanup());

    it.each(ODD_SIZES)('hashes a %i-byte file with every algorithm as nix-hash --flat --base32', async (size) => {
      const f = join(dir, `f${size}`);
      for (const algo of HASH_ALGOS) {
        const expected = nix.text('nix-hash', ['--type', algo, '--flat', '--base32', f]);
        expect(toNixBase32(await hashFile(f, algo))).toBe(expected);
      }
    });
  });

  it('says when the file is missing or a directory', async () => {
    await expect(hashFile(join(dir, 'nope'))).rejects.toThrow(/nope': it does not exist/);
    await expect(hashFile(dir)).rejects.toThrow(/is a directory/);
  });
});
