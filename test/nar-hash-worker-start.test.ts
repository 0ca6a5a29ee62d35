/**
 * `slime hash path` has its hashing thread started by the launcher, before the CLI's
 * bundle loads (src/nar/hash-worker.ts): the hashing must take that very thread, not
 * start a second one, and give nix-hash's digest with it. A hash too small for the
 * thread leaves it where it is.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNixBase32 } from '../src/hash/base32.js';
import { narDump } from '../src/nar/dump.js';
import { hashNar } from '../src/nar/hash.js';
import { startHashWorker, takeStartedHashWorker } from '../src/nar/hash-worker.js';
import { hasNix, isolatedNixStore, pseudoRandomBytes } from './fixtures/nar-nix.js';
import { BUNDLE } from './support/cli.js';

const SLOT = Symbol.for('slime.started-hash-worker');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-hash-worker-'));
  for (const [name, mb] of [['small', 1], ['big', 9]] as const) {
    mkdirSync(join(work, name, 'sub'), { recursive: true });
    writeFileSync(join(work, name, 'sub', 'data'), pseudoRandomBytes(mb << 20, mb));
    writeFileSync(join(work, name, 'a'), 'a\n');
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The digest by another road: the NAR dumped, hashed here. */
async function dumpedDigest(path: string, encoding: 'hex' | 'nix32' = 'hex'): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of narDump(path)) h.update(chunk as Buffer);
  const digest = h.digest();
  return encoding === 'hex' ? digest.toString('hex') : toNixBase32(digest);
}

describe('the hashing thread started ahead', () => {
  it('is left in its slot by a hash too small for it, and taken by the first big one, which gives the right digest', { timeout: 60_000 }, async () => {
    startHashWorker();
    const started = (globalThis as Record<symbol, unknown>)[SLOT];
    expect(started).toBeDefined();

    const small = await hashNar(join(work, 'small'), 'sha256');
    expect(small.toString('hex')).toBe(await dumpedDigest(join(work, 'small')));
    expect((globalThis as Record<symbol, unknown>)[SLOT]).toBe(started);

    const big = await hashNar(join(work, 'big'), 'sha256');
    expect((globalThis as Record<symbol, unknown>)[SLOT]).toBeUndefined();
    expect(takeStartedHashWorker()).toBeUndefined();
    expect(big.toString('hex')).toBe(await dumpedDigest(join(work, 'big')));
    if (hasNix) {
      const nix = isolatedNixStore();
      try {
        expect(big.toString('hex')).toBe(nix.text('nix-hash', ['--type', 'sha256', join(work, 'big')]));
      } finally {
        nix.cleanup();
      }
    }
  });

  it('is started by the installed launcher for `slime hash path`: a big tree and a small one hash right, and each run exits', { timeout: 60_000 }, async () => {
    for (const name of ['big', 'small']) {
      // Returns once the process has exited (an idle thread kept nothing alive); a hang fails at the timeout.
      const out = execFileSync(process.execPath, [BUNDLE, 'hash', 'path', join(work, name)], { env: { ...process.env, SLIME_CODE_CACHE: '0' }, timeout: 30_000 });
      expect(out.toString(), name).toBe(`${await dumpedDigest(join(work, name), 'nix32')}\n`);
    }
  });
});
