import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, SlimeError } from '../src/errors.js';
import { encodeInt, encodeStr } from '../src/nar/format.js';
import { NarError, narRestore } from '../src/nar/restore.js';

/** NAR pieces: a string or Buffer is one `str(...)`; `raw` bytes go in as they are. */
type Piece = string | Buffer | { raw: Buffer };
const raw = (b: Buffer): Piece => ({ raw: b });
const bytes = (...pieces: Piece[]): Buffer =>
  Buffer.concat(pieces.map((p) => (typeof p === 'object' && 'raw' in p ? p.raw : encodeStr(p))));
const nar = (...node: Piece[]): Buffer => bytes('nix-archive-1', ...node);
const file = (contents: string, executable = false): Piece[] =>
  ['(', 'type', 'regular', ...(executable ? ['executable', ''] : []), 'contents', contents, ')'];
const link = (target: string): Piece[] => ['(', 'type', 'symlink', 'target', target, ')'];
const entry = (name: string | Buffer, node: Piece[]): Piece[] => ['entry', '(', 'name', name, 'node', ...node, ')'];
const dir = (...entries: Piece[][]): Piece[] => ['(', 'type', 'directory', ...entries.flat(), ')'];

const VALID = nar(
  ...dir(
    entry('a.txt', file('hello')),
    entry('bin', dir(entry('run', file('#!/bin/sh\n', true)))),
    entry('empty', dir()),
    entry('link', link('a.txt')),
  ),
);

let work: string;
let count = 0;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-nar-restore-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A new empty parent directory, and the destination inside it. */
function freshDest(): { parent: string; dest: string } {
  const parent = join(work, `case-${count++}`);
  mkdirSync(parent);
  return { parent, dest: join(parent, 'out') };
}

/** Restores `input` expecting a NarError, and checks that nothing was left behind. */
async function expectRejected(input: Buffer | Buffer[], message: RegExp, offset?: number): Promise<NarError> {
  const { parent, dest } = freshDest();
  const chunks = Array.isArray(input) ? input : [input];
  const err = await narRestore(Readable.from(chunks), dest).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NarError);
  const narErr = err as NarError;
  expect(narErr.message).toMatch(message);
  expect(narErr.exitCode).toBe(ExitCode.failure);
  if (offset !== undefined) {
    expect(narErr.offset).toBe(offset);
    expect(narErr.message).toContain(`at byte ${offset}`);
  }
  expect(readdirSync(parent)).toEqual([]);
  return narErr;
}

/** Byte offset of the `str` that starts where `prefix` ends: the prefix's length. */
const offsetAfter = (...pieces: Piece[]): number => nar(...pieces).length;

describe('narRestore accepts what Nix writes', () => {
  it('restores files, executables, empty directories and symlinks', async () => {
    const { dest } = freshDest();
    await narRestore(Readable.from([VALID]), dest);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('hello');
    expect(lstatSync(join(dest, 'a.txt')).mode & 0o111).toBe(0);
    expect(lstatSync(join(dest, 'bin', 'run')).mode & 0o111).toBe(0o111);
    expect(readdirSync(join(dest, 'empty'))).toEqual([]);
    expect(readlinkSync(join(dest, 'link'))).toBe('a.txt');
  });

  it('reads input split at every byte (one-byte chunks)', async () => {
    const { dest } = freshDest();
    const oneByte = [...VALID].map((b) => Buffer.from([b]));
    await narRestore(Readable.from(oneByte), dest);
    expect(readFileSync(join(dest, 'bin', 'run'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('reads from a source that fills each chunk again once the next is asked for', async () => {
    // The restore thread gives chunks back (to be filled with other bytes) as soon as the
    // parser asks for the next one: nothing the parser keeps may still point into them.
    const names = ['a-rather-long-file-name-that-crosses-chunks.txt', 'b', 'link-to-a'];
    const input = nar(
      ...dir(
        entry(names[0], file('contents that span several chunks, and then some more')),
        entry(names[1], dir(entry('run', file('#!/bin/sh\n', true)))),
        entry(names[2], link(names[0])),
      ),
    );
    for (const size of [1, 3, 5, 7, 8, 9, 13, 16, 17]) {
      async function* reusing(): AsyncGenerator<Buffer> {
        const chunk = Buffer.alloc(size);
        for (let at = 0; at < input.length; at += size) {
          const n = input.copy(chunk, 0, at, at + size);
          yield chunk.subarray(0, n);
          chunk.fill(0xaa);
        }
      }
      const { dest } = freshDest();
      await narRestore(reusing(), dest);
      expect(readdirSync(dest).sort(), `chunks of ${size}`).toEqual(names);
      expect(readFileSync(join(dest, names[0]), 'utf8')).toBe('contents that span several chunks, and then some more');
      expect(readlinkSync(join(dest, names[2])), `chunks of ${size}`).toBe(names[0]);
      expect(readFileSync(join(dest, 'b', 'run'), 'utf8')).toBe('#!/bin/sh\n');
    }
  });

  it('restores a single file or symlink at the top', async () => {
    const f = freshDest();
    await narRestore(Readable.from([nar(...file('just a file'))]), f.dest);
    expect(readFileSync(f.dest, 'utf8')).toBe('just a file');
    const l = freshDest();
    await narRestore(Readable.from([nar(...link('/nowhere'))]), l.dest);
    expect(readlinkSync(l.dest)).toBe('/nowhere');
  });
});

describe('narRestore rejects malformed NARs and leaves nothing behind', () => {
  it.each([
    ['a name with "/"', 'a/b', /invalid file name "a\/b": it contains "\/"/],
    ['a name with NUL', 'a\0b', /it contains a NUL byte/],
    ['the name "."', '.', /invalid file name ".": it is "." or "\.\."/],
    ['the name ".."', '..', /invalid file name "\.\.": it is "." or "\.\."/],
    ['an empty name', '', /invalid file name "": it is empty/],
  ])('%s', async (_what, name, message) => {
    const offset = offsetAfter('(', 'type', 'directory', 'entry', '(', 'name');
    await expectRejected(nar(...dir(entry(name, file('x')))), message, offset);
  });

  it('duplicate directory entries', async () => {
    const offset = offsetAfter('(', 'type', 'directory', ...entry('a', file('1')), 'entry', '(', 'name');
    await expectRejected(nar(...dir(entry('a', file('1')), entry('a', file('2')))), /two entries named "a"/, offset);
  });

  it('unsorted directory entries (byte order)', async () => {
    await expectRejected(nar(...dir(entry('b', file('1')), entry('a', file('2')))), /"a" comes after "b".*sorted/);
    // "Z" (0x5a) sorts before "a" (0x61) in bytes.
    await expectRejected(nar(...dir(entry('a', file('1')), entry('Z', file('2')))), /"Z" comes after "a"/);
  });

  it('a symlink followed by an entry written through it', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    const throughLink = nar(...dir(entry('a', link(outside)), entry('a', dir(entry('pwned', file('gotcha'))))));
    await expectRejected(throughLink, /two entries named "a"/);
    const slashName = nar(...dir(entry('a', link(outside)), entry('a/pwned', file('gotcha'))));
    await expectRejected(slashName, /contains "\/"/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('non-zero padding after file contents, and after a name', async () => {
    const head: Piece[] = ['(', 'type', 'regular', 'contents'];
    const badContents = nar(...head, raw(encodeInt(3)), raw(Buffer.from('abc\0\0\0\0\x01')), ')');
    await expectRejected(badContents, /padding after file contents is not all zero/, offsetAfter(...head) + 8 + 3);
    const badName = nar('(', 'type', 'directory', 'entry', '(', 'name', raw(encodeInt(1)), raw(Buffer.from('a\0\0\0\0\0\0\x07')));
    await expectRejected(badName, /padding after a file name is not all zero/);
  });

  it.each([
    ['an unknown file type', nar('(', 'type', 'fifo', ')'), /unknown file type "fifo"/],
    ['an unknown directory tag', nar('(', 'type', 'directory', 'entries', ')'), /expected "entry" or "\)" in a directory, but found "entries"/],
    ['an unknown regular-file tag', nar('(', 'type', 'regular', 'content', 'x', ')'), /expected "executable" or "contents", but found "content"/],
    ['a missing "("', nar('type', 'regular'), /expected "\(", but found "type"/],
    ['an executable marker that is not empty', nar('(', 'type', 'regular', 'executable', 'yes', 'contents', 'x', ')'), /expected "", but found "yes"/],
    ['a wrong magic', bytes('nix-archive-2', ...file('x')), /not a NAR/],
    ['random bytes', Buffer.from('GIF89a this is not a NAR at all.'), /NAR/],
    ['a huge token', nar('(', 'type', 'x'.repeat(1000)), /string of 1000 bytes, which is no NAR token/],
    ['a length beyond any file', nar('(', 'type', 'regular', 'contents', raw(Buffer.alloc(8, 0xff))), /more than any real file/],
    ['an empty symlink target', nar(...link('')), /empty target/],
  ])('%s', async (_what, input, message) => {
    await expectRejected(input, message);
  });

  it('bytes after the end of the NAR', async () => {
    await expectRejected(Buffer.concat([VALID, Buffer.alloc(8)]), /bytes after the end of the NAR/, VALID.length);
    await expectRejected([VALID, VALID], /bytes after the end/, VALID.length);
  });

  it('truncation at every byte', async () => {
    for (let cut = 0; cut < VALID.length; cut++) {
      await expectRejected(VALID.subarray(0, cut), /truncated|not a NAR/);
    }
  });

  it('a destination that exists already, or whose parent does not', async () => {
    const { parent, dest } = freshDest();
    mkdirSync(dest);
    await expect(narRestore(Readable.from([VALID]), dest)).rejects.toThrow(/already exists/);
    expect(readdirSync(dest)).toEqual([]);
    const orphan = join(parent, 'no', 'such', 'dir');
    await expect(narRestore(Readable.from([VALID]), orphan)).rejects.toThrow(/parent directory .* does not exist/);
    expect(existsSync(join(parent, 'no'))).toBe(false);
  });

  it('a tree too deep for the file system: a plain error naming the path, nothing left', async () => {
    const name = 'n'.repeat(255);
    let node: Piece[] = file('bottom');
    for (let i = 0; i < 20; i++) node = dir(entry(name, node));
    const { parent, dest } = freshDest();
    const err = await narRestore(Readable.from([nar(...node)]), dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimeError);
    expect(err).not.toBeInstanceOf(NarError);
    expect((err as Error).message).toMatch(/cannot restore the NAR: writing directory '.*nnnn' failed: the path is too long/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('text chunks instead of bytes', async () => {
    const { dest } = freshDest();
    const err = await narRestore(Readable.from(['nix-archive-1']), dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimeError);
    expect((err as Error).message).toMatch(/yields text, not bytes/);
  });
});
