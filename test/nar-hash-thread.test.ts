/**
 * Big NARs are hashed on the hashing thread (src/nar/hash-thread.ts) while the walk
 * reads on. The digest must be nix-hash's whatever thread computes it, hashes running
 * at once must not mix, and a walk that fails half-way must leave the thread usable.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNixBase32 } from '../src/hash/base32.js';
import { hashBytes } from '../src/hash/digest.js';
import { hashNar, hashPath } from '../src/nar/hash.js';
import { hasNix, isolatedNixStore, pseudoRandomBytes, warnIfNoNix } from './fixtures/nar-nix.js';

let work: string;
const trees: string[] = [];
const H1 = toNixBase32(hashBytes('thread-one').subarray(0, 20));

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-nar-thread-'));
  // Sizes around the limit of what is hashed here (4 blocks of 1 MiB), on the thread, and
  // past the 32 blocks in flight to the thread (the walk then waits for blocks to come back).
  for (const [i, mb] of [0.5, 3.9, 4, 5, 23, 45].entries()) {
    const tree = join(work, `t${i}`);
    mkdirSync(join(tree, 'sub'), { recursive: true });
    const big = pseudoRandomBytes(Math.floor(mb * (1 << 20)), i + 1);
    // A reference near the end, where only blocks sent to the thread carry it.
    big.write(H1, big.length - 100, 'latin1');
    writeFileSync(join(tree, 'sub', 'big'), big);
    for (let f = 0; f < 50; f++) writeFileSync(join(tree, `f${f}`), pseudoRandomBytes(f * 101, f));
    trees.push(tree);
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

warnIfNoNix('nar-hash-thread compares its hashes with nix-hash');

describe('hashing on the hashing thread', () => {
  it('gives nix-hash the same digests, for hashes run one by one and all at once, and finds references in every block', { timeout: 120_000 }, async () => {
    const alone: string[] = [];
    for (const t of trees) alone.push((await hashNar(t, 'sha256')).toString('hex'));
    const together = await Promise.all(trees.map((t) => hashPath(t, { scanFor: [H1] })));
    expect(together.map((r) => r.narHash.toString('hex'))).toEqual(alone);
    for (const r of together) expect(r.found).toEqual([H1]);
    const sha512 = await Promise.all(trees.map((t) => hashNar(t, 'sha512')));
    if (hasNix) {
      const nix = isolatedNixStore();
      try {
        for (const [i, t] of trees.entries()) {
          expect(alone[i], t).toBe(nix.text('nix-hash', ['--type', 'sha256', t]));
          expect(sha512[i].toString('hex'), t).toBe(nix.text('nix-hash', ['--type', 'sha512', t]));
        }
      } finally {
        nix.cleanup();
      }
    }
  });

  it('fails a walk that meets a FIFO after the thread took over, and hashes the next path all the same', { timeout: 120_000 }, async () => {
    const tree = join(work, 'fifo');
    mkdirSync(tree);
    writeFileSync(join(tree, 'a-big'), pseudoRandomBytes(9 << 20, 7));
    execFileSync('mkfifo', [join(tree, 'z-fifo')]);
    await expect(hashNar(tree, 'sha256')).rejects.toThrow(/z-fifo': it is a named pipe/);
    const again = await hashNar(trees[4], 'sha256');
    expect(again.toString('hex')).toBe((await hashNar(trees[4], 'sha256')).toString('hex'));
  });
});
