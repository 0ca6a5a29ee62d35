/**
 * Restores a NAR (grammar in ./format.ts) to the file system, as `nix-store --restore`,
 * but strictly: anything that Nix's serializer would not have written is rejected.
 *
 * The tree is built under a temporary name beside `dest` and renamed into place
 * only when the whole NAR has been read and checked, so a bad NAR leaves nothing
 * at `dest`. Entries are created with O_EXCL / mkdir and never through an existing
 * path, so no symlink in the archive can redirect a later write.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SlimeError } from '../errors.js';
import { NAR_MAGIC } from './format.js';
import { type ByteSource, NarError, NarReader } from './reader.js';

export { NarError } from './reader.js';

/** Longer than any token of the format; a longer string where a token belongs is garbage. */
const MAX_TOKEN = 16;
/** Linux's NAME_MAX and PATH_MAX - 1: longer names and targets cannot be created anyway. */
const MAX_NAME = 255;
const MAX_TARGET = 4095;

export async function narRestore(input: AsyncIterable<Buffer> | NodeJS.ReadableStream, dest: string): Promise<void> {
  await checkAbsent(dest);
  const temp = join(dirname(dest), `.${basename(dest)}.restoring-${process.pid}-${randomBytes(4).toString('hex')}`);
  const reader = new NarReader(input as ByteSource);
  try {
    await parseNar(reader, Buffer.from(temp));
    await checkAbsent(dest);
    await rename(temp, dest);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    await reader.close();
    throw e;
  }
}

async function checkAbsent(dest: string): Promise<void> {
  const st = await lstat(dest).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new SlimeError(`cannot restore a NAR to '${dest}': ${e.message}; check the path and its permissions.`);
  });
  if (st !== undefined) {
    throw new SlimeError(
      `cannot restore a NAR to '${dest}': it already exists; choose a path that does not exist yet or remove it first.`,
    );
  }
  const parent = await lstat(dirname(dest)).catch(() => undefined);
  if (parent === undefined || !parent.isDirectory()) {
    throw new SlimeError(
      `cannot restore a NAR to '${dest}': its parent directory '${dirname(dest)}' does not exist; create it first.`,
    );
  }
}

async function parseNar(r: NarReader, path: Buffer): Promise<void> {
  const start = r.offset;
  const magic = await r.readStr(MAX_TOKEN, 'the NAR header', () => 'this is not a NAR: it does not start with "nix-archive-1".');
  if (magic.toString('latin1') !== NAR_MAGIC) {
    throw new NarError('this is not a NAR: it does not start with "nix-archive-1".', start);
  }
  await parseObject(r, path);
  if (!(await r.atEnd())) {
    throw new NarError('there are bytes after the end of the NAR; the input holds more than one NAR or is corrupt.', r.offset);
  }
}

/** Reads a token and returns it; `expected` names what the grammar allows here. */
async function readToken(r: NarReader, expected: string): Promise<string> {
  const tooLong = (n: number): string => `expected ${expected}, but found a string of ${n} bytes, which is no NAR token.`;
  return (await r.readStr(MAX_TOKEN, expected, tooLong)).toString('latin1');
}

async function expectToken(r: NarReader, token: string): Promise<void> {
  const start = r.offset;
  const found = await readToken(r, `"${token}"`);
  if (found !== token) throw new NarError(`expected "${token}", but found ${show(found)}.`, start);
}

function show(token: string): string {
  return JSON.stringify(token);
}

async function parseObject(r: NarReader, path: Buffer): Promise<void> {
  await expectToken(r, '(');
  await expectToken(r, 'type');
  const start = r.offset;
  const type = await readToken(r, 'a file type ("regular", "symlink" or "directory")');
  if (type === 'regular') await parseRegular(r, path);
  else if (type === 'symlink') await parseSymlink(r, path);
  else if (type === 'directory') await parseDirectory(r, path);
  else throw new NarError(`unknown file type ${show(type)}; expected "regular", "symlink" or "directory".`, start);
}

async function parseRegular(r: NarReader, path: Buffer): Promise<void> {
  let start = r.offset;
  let tag = await readToken(r, '"executable" or "contents"');
  const executable = tag === 'executable';
  if (executable) {
    await expectToken(r, '');
    start = r.offset;
    tag = await readToken(r, '"contents"');
  }
  if (tag !== 'contents') {
    throw new NarError(`expected ${executable ? '' : '"executable" or '}"contents", but found ${show(tag)}.`, start);
  }
  const size = await r.readInt('the size of a file');
  await writeContents(r, path, size, executable);
  await r.readPadding(size, 'file contents');
  await expectToken(r, ')');
}

async function writeContents(r: NarReader, path: Buffer, size: number, executable: boolean): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const file = await open(path, flags, 0o666).catch(cannotCreate('file', path));
  try {
    for await (const slice of r.readSlices(size, 'file contents')) {
      let written = 0;
      while (written < slice.length) {
        written += (await file.write(slice, written).catch(cannotCreate('file', path))).bytesWritten;
      }
    }
    // As Nix: whoever may read an executable may also run it.
    if (executable) await file.chmod((await file.stat()).mode | 0o111);
  } finally {
    await file.close();
  }
}

async function parseSymlink(r: NarReader, path: Buffer): Promise<void> {
  await expectToken(r, 'target');
  const start = r.offset;
  const target = await r.readStr(
    MAX_TARGET,
    'a symlink target',
    (n) => `a symlink target of ${n} bytes is longer than the system allows (${MAX_TARGET}).`,
  );
  if (target.length === 0) throw new NarError('a symlink has an empty target, which no file system allows.', start);
  if (target.includes(0)) throw new NarError('a symlink target contains a NUL byte.', start);
  await symlink(target, path).catch(cannotCreate('symlink', path));
  await expectToken(r, ')');
}

async function parseDirectory(r: NarReader, path: Buffer): Promise<void> {
  await mkdir(path).catch(cannotCreate('directory', path));
  let previous: Buffer | undefined;
  for (;;) {
    const start = r.offset;
    const tag = await readToken(r, '"entry" or ")"');
    if (tag === ')') return;
    if (tag !== 'entry') throw new NarError(`expected "entry" or ")" in a directory, but found ${show(tag)}.`, start);
    await expectToken(r, '(');
    await expectToken(r, 'name');
    const name = await readName(r, previous);
    await expectToken(r, 'node');
    await parseObject(r, Buffer.concat([path, SLASH, name]));
    await expectToken(r, ')');
    previous = name;
  }
}

const SLASH = Buffer.from('/');

async function readName(r: NarReader, previous: Buffer | undefined): Promise<Buffer> {
  const start = r.offset;
  const name = await r.readStr(
    MAX_NAME,
    'a file name',
    (n) => `a file name of ${n} bytes is longer than the system allows (${MAX_NAME}).`,
  );
  const why = badName(name);
  if (why) throw new NarError(`invalid file name ${show(name.toString())}: ${why}`, start);
  if (previous !== undefined) {
    const order = Buffer.compare(name, previous);
    if (order === 0) throw new NarError(`the directory has two entries named ${show(name.toString())}.`, start);
    if (order < 0) {
      throw new NarError(
        `directory entry ${show(name.toString())} comes after ${show(previous.toString())}, but entries must be sorted by name.`,
        start,
      );
    }
  }
  return name;
}

function badName(name: Buffer): string | undefined {
  if (name.length === 0) return 'it is empty.';
  if (name.equals(DOT) || name.equals(DOTDOT)) return 'it is "." or "..", which would escape or alias a directory.';
  if (name.includes(0x2f)) return 'it contains "/".';
  if (name.includes(0)) return 'it contains a NUL byte.';
  return undefined;
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** The file system refused: not the NAR's fault, so a plain SlimeError that says why. */
function cannotCreate(kind: string, path: Buffer): (e: NodeJS.ErrnoException) => never {
  return (e) => {
    const why =
      e.code === 'ENOSPC' ? 'the disk is full' : e.code === 'ENAMETOOLONG' ? 'the path is too long' : e.message;
    throw new SlimeError(`cannot restore the NAR: writing ${kind} '${path.toString()}' failed: ${why}; free space or choose another DIR.`);
  };
}
