/**
 * `slime nar restore DIR < FILE.nar`: a NAR redirected from a file is read in blocks
 * of its own (not through process.stdin, and reused), a NAR larger than one block included; a
 * truncated file is refused as a truncated NAR, with nothing left at DIR.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { narDump } from '../src/nar/dump.js';
import { hashPath } from '../src/nar/hash.js';
import { CLI } from './support/cli.js';

let work: string;
let tree: string;
let nar: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-nar-file-stdin-'));
  tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
  // More than one 1 MiB block, and entries across the blocks' edges.
  const big = Buffer.alloc(3 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  fs.writeFileSync(path.join(tree, 'big'), big);
  for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(tree, 'd', `f${String(i).padStart(3, '0')}`), 'x'.repeat(i * 97));
  // Between two entries of one directory more than two blocks of contents: the blocks are
  // reused, so what the restore keeps of an entry (its name, to check the order) must be its own.
  fs.writeFileSync(path.join(tree, 'd', 'f100'), big.subarray(0, 2 * 1024 * 1024 + 3));
  fs.symlinkSync('big', path.join(tree, 'link'));
  nar = path.join(work, 'tree.nar');
  const parts: Buffer[] = [];
  for await (const c of narDump(tree)) parts.push(c as Buffer);
  fs.writeFileSync(nar, Buffer.concat(parts));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const restoreFrom = (file: string, dest: string) => {
  const fd = fs.openSync(file, 'r');
  try {
    return spawnSync(process.execPath, [CLI, 'nar', 'restore', dest], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
  } finally {
    fs.closeSync(fd);
  }
};

describe('slime nar restore < FILE.nar', () => {
  it('restores the same tree', async () => {
    const dest = path.join(work, 'out');
    const r = restoreFrom(nar, dest);
    expect(r.status, r.stderr).toBe(0);
    expect((await hashPath(dest)).narHash.equals((await hashPath(tree)).narHash)).toBe(true);
  });

  it('refuses a truncated file as a truncated NAR and leaves nothing', () => {
    const cut = path.join(work, 'cut.nar');
    fs.writeFileSync(cut, fs.readFileSync(nar).subarray(0, 2 * 1024 * 1024));
    const parent = path.join(work, 'cut-parent');
    fs.mkdirSync(parent);
    const r = restoreFrom(cut, path.join(parent, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid NAR at byte \d+: .*truncated/);
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});
