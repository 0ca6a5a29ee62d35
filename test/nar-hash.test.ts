import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimeError } from '../src/errors.js';
import { toNixBase32 } from '../src/hash/base32.js';
import { hashBytes } from '../src/hash/digest.js';
import { RefScanner, hashPath } from '../src/nar/hash.js';
import { hasNix, isolatedNixStore, pseudoRandomBytes, warnIfNoNix } from './fixtures/nar-nix.js';

/** Distinct, valid 32-char hash parts. */
const part = (seed: string): string => toNixBase32(hashBytes(seed).subarray(0, 20));
const [H1, H2, H3, ABSENT] = ['one', 'two', 'three', 'absent'].map(part);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-nar-hash-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('RefScanner', () => {
  const text = Buffer.from(`prefix /nix/store/${H1}-foo middle\0${H2}-bar ${ABSENT.slice(1)}x end`);

  it('finds hash parts wherever the stream is split in two', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new RefScanner([H1, H2, ABSENT]);
      s.feed(text.subarray(0, cut));
      s.feed(text.subarray(cut));
      expect(s.found()).toEqual([H1, H2].sort());
    }
  });

  it('finds hash parts fed one byte at a time', () => {
    const s = new RefScanner([H1, H2, H3]);
    for (const b of text) s.feed(Buffer.from([b]));
    expect(s.found()).toEqual([H1, H2].sort());
  });

  it('reports only what it was asked for', () => {
    const s = new RefScanner([H3]);
    s.feed(text);
    expect(s.found()).toEqual([]);
  });

  it('refuses something that is not a hash part, saying what a hash part is', () => {
    expect(() => new RefScanner(['not-a-hash'])).toThrow(SlimeError);
    expect(() => new RefScanner([`${H1}-name`])).toThrow(/'.*-name'.*32 Nix base32 characters/);
    expect(() => new RefScanner(['e'.repeat(32)])).toThrow(/32 Nix base32 characters/);
  });
});

describe('hashPath reference scanning', () => {
  it('finds hash parts in contents across read chunks, in symlink targets and in names', async () => {
    const tree = join(work, 'refs');
    mkdirSync(tree);
    // 256 KiB is the read chunk: put H1 across the first chunk boundary.
    const big = pseudoRandomBytes(600_000, 3);
    big.write(H1, 262_144 - 10, 'latin1');
    writeFileSync(join(tree, 'big'), big);
    symlinkSync(`/store/${H2}-dep/bin/tool`, join(tree, 'tool'));
    writeFileSync(join(tree, `${H3}-named`), '');
    const { found } = await hashPath(tree, { scanFor: [H1, H2, H3, ABSENT] });
    expect(found).toEqual([H1, H2, H3].sort());
  });
});

warnIfNoNix('the hashPath memory test compares its hash with nix-hash');

describe('hashPath memory', () => {
  it('hashes a 300 MB tree with flat peak RSS', { timeout: 120_000 }, async () => {
    const tree = join(work, 'large');
    mkdirSync(tree);
    // Sparse files: 288 MB to read, almost none of it on disk.
    for (const name of ['sparse-a', 'sparse-b', 'sparse-c']) {
      writeFileSync(join(tree, name), '');
      truncateSync(join(tree, name), 96 << 20);
    }
    writeFileSync(join(tree, 'random'), pseudoRandomBytes(12 << 20, 9));
    mkdirSync(join(tree, 'many'));
    for (let i = 0; i < 300; i++) writeFileSync(join(tree, 'many', `f${i}`), pseudoRandomBytes(i * 37, i));

    const child = join(import.meta.dirname, 'fixtures', 'nar-memory-child.ts');
    const out = execFileSync(process.execPath, ['--import', 'tsx', child, tree], { encoding: 'utf8' });
    const report = JSON.parse(out) as { before: number; after: number; narSize: number; narHash: string };
    expect(report.narSize).toBeGreaterThan(300_000_000);
    const growthMB = (report.after - report.before) / (1 << 20);
    // Bounded by the blocks in flight (4 read here, then up to 32 more on their way to the
    // hashing thread: src/nar/hash.ts), the thread's own heap and some slack; a NAR held
    // in memory would take 300 MB.
    expect(growthMB).toBeLessThan(56);
    if (hasNix) {
      const nix = isolatedNixStore();
      try {
        expect(report.narHash).toBe(nix.text('nix-hash', ['--type', 'sha256', '--base32', tree]));
      } finally {
        nix.cleanup();
      }
    }
  });
});
