import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNixBase32 } from '../src/hash/base32.js';
import { BLOCK_SIZE, narBlocks, narDump } from '../src/nar/dump.js';
import { hashNar, hashPath } from '../src/nar/hash.js';
import { narRestore } from '../src/nar/restore.js';
import { ODD_SIZES, hasNix, isolatedNixStore, makeTestTree, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

let work: string;
let tree: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-nar-dump-'));
  tree = join(work, 'tree');
  makeTestTree(tree);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

warnIfNoNix('NAR bytes and hashes compared with nix-store --dump and nix-hash');

describe.skipIf(!hasNix)('narDump and hashPath against Nix 2.8', () => {
  let nix: NixStore;
  beforeAll(() => {
    nix = isolatedNixStore();
  });
  afterAll(() => nix.cleanup());

  it('dumps the generated tree byte for byte as nix-store --dump', async () => {
    const ours = await collect(narDump(tree));
    const theirs = nix.run('nix-store', ['--dump', tree]);
    expect(ours.length).toBe(theirs.length);
    expect(ours.equals(theirs)).toBe(true);
  });

  it.each(ODD_SIZES)('dumps a %i-byte file as nix-store --dump', async (size) => {
    const file = join(tree, 'sizes', `f${size}`);
    expect((await collect(narDump(file))).equals(nix.run('nix-store', ['--dump', file]))).toBe(true);
  });

  it.each(['link-to-dir', 'dangling', 'self', 'empty-dir', 'empty', 'run.sh', 'owner-only-x', 'group-x-only'])(
    'dumps %s on its own as nix-store --dump',
    async (name) => {
      const p = join(tree, name);
      expect((await collect(narDump(p))).equals(nix.run('nix-store', ['--dump', p]))).toBe(true);
    },
  );

  it('hashes the tree as nix-hash --type sha256 --base32, with the NAR size', async () => {
    const { narHash, narSize, found } = await hashPath(tree);
    expect(toNixBase32(narHash)).toBe(nix.text('nix-hash', ['--type', 'sha256', '--base32', tree]));
    expect(narSize).toBe(nix.run('nix-store', ['--dump', tree]).length);
    expect(found).toEqual([]);
  });

  it.each(['sha512', 'sha1', 'md5'] as const)('hashes the tree with %s as nix-hash --type', async (algo) => {
    expect((await hashNar(tree, algo)).toString('hex')).toBe(nix.text('nix-hash', ['--type', algo, tree]));
  });

  it('restores what nix-store --dump wrote, and nix-store --restore takes what narDump wrote', async () => {
    const fromNix = join(work, 'from-nix');
    await narRestore(Readable.from([nix.run('nix-store', ['--dump', tree])]), fromNix);
    const ours = await collect(narDump(tree));
    expect((await collect(narDump(fromNix))).equals(ours)).toBe(true);

    const byNix = join(work, 'by-nix');
    nix.run('nix-store', ['--restore', byNix], { input: ours });
    expect((await collect(narDump(byNix))).equals(ours)).toBe(true);
  });
});

describe('narDump without Nix', () => {
  it('round-trips: dump, restore, dump gives the same bytes', async () => {
    const first = await collect(narDump(tree));
    const copy = join(work, 'round-trip');
    await narRestore(narDump(tree), copy);
    expect((await collect(narDump(copy))).equals(first)).toBe(true);
  });

  it('starts with the magic and sorts entries by bytes, not by JavaScript string order', async () => {
    const nar = await collect(narDump(join(tree, 'names')));
    expect(nar.subarray(8, 21).toString()).toBe('nix-archive-1');
    const fb01 = nar.indexOf(Buffer.from('\uFB01'));
    const emoji = nar.indexOf(Buffer.from('\u{1F600}'));
    expect(fb01).toBeGreaterThan(0);
    expect(emoji).toBeGreaterThan(fb01);
  });

  it('refuses a path that does not exist, naming it', async () => {
    const missing = join(work, 'missing');
    await expect(collect(narDump(missing))).rejects.toThrow(`'${missing}'`);
    await expect(collect(narDump(missing))).rejects.toThrow(/does not exist/);
  });

  it('refuses a socket inside the tree, naming it and its kind', async () => {
    const dir = join(work, 'with-socket');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'a');
    const sock = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((res) => server.listen(sock, res));
    try {
      await expect(collect(narDump(dir))).rejects.toThrow(/sock'.*socket.*only regular files, directories and symlinks/);
    } finally {
      server.close();
    }
  });

  it('archives what is there when read, not what the listing said: a file replaced by a symlink, a directory or a named pipe', () => {
    // The walk opens a file its directory listed as regular without lstat'ing it first;
    // here each `b` is replaced while the walk is paused inside the big file `a`.
    const replaceB = (name: string, replace: (b: string) => void): Buffer[] => {
      const dir = join(work, `replaced-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'a'), Buffer.alloc(3 * BLOCK_SIZE, 1));
      writeFileSync(join(dir, 'b'), 'was a file');
      const walk = narBlocks(dir, Buffer.alloc(BLOCK_SIZE));
      const blocks = [Buffer.from(walk.next().value as Buffer)];
      rmSync(join(dir, 'b'));
      replace(join(dir, 'b'));
      for (let r = walk.next(); !r.done; r = walk.next()) blocks.push(Buffer.from(r.value));
      return blocks;
    };
    const symlinked = Buffer.concat(replaceB('symlink', (b) => symlinkSync('target', b)));
    expect(symlinked.includes(Buffer.from('symlink'))).toBe(true);
    expect(symlinked.includes(Buffer.from('was a file'))).toBe(false);
    const dir = Buffer.concat(replaceB('dir', (b) => mkdirSync(b)));
    expect(dir.subarray(-200).includes(Buffer.from('directory'))).toBe(true);
    expect(() => replaceB('fifo', (b) => execFileSync('mkfifo', [b]))).toThrow(/b'.*named pipe/);
  });

  it('archives a symlink at the top as a symlink, not what it points to', async () => {
    const link = join(work, 'top-link');
    symlinkSync(tree, link);
    const nar = await collect(narDump(link));
    expect(nar.includes(Buffer.from('symlink'))).toBe(true);
    expect(nar.includes(Buffer.from('directory'))).toBe(false);
  });
});
