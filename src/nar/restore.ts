/**
 * Restores a NAR (grammar in ./format.ts) to the file system, as `nix-store --restore`,
 * but strictly: anything that Nix's serializer would not have written is rejected.
 *
 * The tree is built under a temporary name beside `dest` and renamed into place
 * only when the whole NAR has been read and checked, so a bad NAR leaves nothing
 * at `dest`. Entries are created with O_EXCL / mkdir and never through an existing
 * path, so no symlink in the archive can redirect a later write.
 *
 * With `canonical` (substitution: the tree becomes a store path), every entry is made
 * in Nix's canonical form as it is written: files mode 0444 or 0555, directories 0555
 * once their entries are in, mtime 1 everywhere; the top directory keeps its write
 * bit (moving a directory to another parent needs it) for the caller to drop once
 * the path is in place. No second walk over the tree is needed.
 *
 * Every entry is written as the parser reaches it, with synchronous system calls
 * (open, write, futimes, close): a NAR holds thousands of small files, and a round
 * trip to the thread pool per call cost more than the calls (the parser, its promises
 * and the pool's wake-ups took as much CPU as the kernel's work; 1.7-2.4 s against
 * nix-store --restore's 0.4-0.6 s for the CPython quick tree). A big NAR's
 * substitution restores on the restore thread (cache/pull-worker.ts), so the restore
 * still overlaps with the decompression and the hashing; a large file is
 * written slice by slice as it arrives, so memory stays flat.
 */
import { randomBytes } from 'node:crypto';
import fs, { constants } from 'node:fs';
import { lstat, rename, rm } from 'node:fs/promises';
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

export interface RestoreOptions {
  /** Make the tree in Nix's canonical form (mtime 1, read-only) as it is written. */
  canonical?: boolean;
}

export async function narRestore(input: AsyncIterable<Buffer> | NodeJS.ReadableStream, dest: string, opts: RestoreOptions = {}): Promise<void> {
  await checkAbsent(dest);
  const temp = join(dirname(dest), `.${basename(dest)}.restoring-${process.pid}-${randomBytes(4).toString('hex')}`);
  const reader = new NarReader(input as ByteSource);
  const writer = new Writer(Boolean(opts.canonical));
  try {
    await parseNar(reader, Buffer.from(temp), writer);
    await checkAbsent(dest);
    await rename(temp, dest);
  } catch (e) {
    await removePartial(temp);
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

async function parseNar(r: NarReader, path: Buffer, w: Writer): Promise<void> {
  const start = r.offset;
  const magic = await r.readStr(MAX_TOKEN, 'the NAR header', () => 'this is not a NAR: it does not start with "nix-archive-1".');
  if (magic.toString('latin1') !== NAR_MAGIC) {
    throw new NarError('this is not a NAR: it does not start with "nix-archive-1".', start);
  }
  await parseObject(r, path, w, true);
  if (!(await r.atEnd())) {
    throw new NarError('there are bytes after the end of the NAR; the input holds more than one NAR or is corrupt.', r.offset);
  }
}

/** Reads a token and returns it; `expected` names what the grammar allows here. */
async function readToken(r: NarReader, expected: string): Promise<string> {
  const tooLong = (n: number): string => `expected ${expected}, but found a string of ${n} bytes, which is no NAR token.`;
  return (r.tryStr(MAX_TOKEN) ?? (await r.readStr(MAX_TOKEN, expected, tooLong))).toString('latin1');
}

async function expectToken(r: NarReader, token: string): Promise<void> {
  const start = r.offset;
  const found = await readToken(r, `"${token}"`);
  if (found !== token) throw new NarError(`expected "${token}", but found ${show(found)}.`, start);
}

function show(token: string): string {
  return JSON.stringify(token);
}

/** Parses one object and writes it. */
async function parseObject(r: NarReader, path: Buffer, w: Writer, top: boolean): Promise<void> {
  await expectToken(r, '(');
  await expectToken(r, 'type');
  const start = r.offset;
  const type = await readToken(r, 'a file type ("regular", "symlink" or "directory")');
  if (type === 'regular') return parseRegular(r, path, w);
  if (type === 'symlink') return parseSymlink(r, path, w);
  if (type === 'directory') return parseDirectory(r, path, w, top);
  throw new NarError(`unknown file type ${show(type)}; expected "regular", "symlink" or "directory".`, start);
}

async function parseRegular(r: NarReader, path: Buffer, w: Writer): Promise<void> {
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
  const size = r.tryInt() ?? (await r.readInt('the size of a file'));
  const whole = r.tryContents(size);
  if (whole !== undefined) {
    // Contents and padding were in memory already (the common case).
    w.writeWhole(path, whole, executable);
  } else {
    await w.writeStreamed(path, r.readSlices(size, 'file contents'), executable);
    await r.readPadding(size, 'file contents');
  }
  await expectToken(r, ')');
}

async function parseSymlink(r: NarReader, path: Buffer, w: Writer): Promise<void> {
  await expectToken(r, 'target');
  const start = r.offset;
  const target = await r.readStr(
    MAX_TARGET,
    'a symlink target',
    (n) => `a symlink target of ${n} bytes is longer than the system allows (${MAX_TARGET}).`,
  );
  if (target.length === 0) throw new NarError('a symlink has an empty target, which no file system allows.', start);
  if (target.includes(0)) throw new NarError('a symlink target contains a NUL byte.', start);
  try {
    fs.symlinkSync(target, path);
    if (w.canonical) fs.lutimesSync(path, 1, 1);
  } catch (e) {
    throw cannotCreate('symlink', path, e);
  }
  await expectToken(r, ')');
}

async function parseDirectory(r: NarReader, path: Buffer, w: Writer, top: boolean): Promise<void> {
  try {
    fs.mkdirSync(path);
  } catch (e) {
    throw cannotCreate('directory', path, e);
  }
  let previous: Buffer | undefined;
  for (;;) {
    const start = r.offset;
    const tag = await readToken(r, '"entry" or ")"');
    if (tag === ')') break;
    if (tag !== 'entry') throw new NarError(`expected "entry" or ")" in a directory, but found ${show(tag)}.`, start);
    await expectToken(r, '(');
    await expectToken(r, 'name');
    // A copy, kept as `previous` past the entry: the input's buffers may be reused once read past (NarReader).
    const name = Buffer.from(await readName(r, previous));
    await expectToken(r, 'node');
    await parseObject(r, Buffer.concat([path, SLASH, name]), w, false);
    await expectToken(r, ')');
    previous = name;
  }
  if (!w.canonical) return;
  // Its entries are in: read-only (below the top), then mtime 1 (creating entries moved it).
  try {
    if (!top) fs.chmodSync(path, 0o555);
    fs.utimesSync(path, 1, 1);
  } catch (e) {
    throw cannotCreate('directory', path, e);
  }
}

const SLASH = Buffer.from('/');

/** Writes files, synchronously; in canonical form when asked. */
class Writer {
  private static readonly FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

  private readonly umask: number;

  constructor(readonly canonical: boolean) {
    this.umask = canonical ? currentUmask() : 0;
  }

  private mode(executable: boolean): number {
    // A file created read-only is still writable through the descriptor that created it.
    return this.canonical ? (executable ? 0o555 : 0o444) : 0o666;
  }

  private open(path: Buffer, executable: boolean): number {
    try {
      return fs.openSync(path, Writer.FLAGS, this.mode(executable));
    } catch (e) {
      throw cannotCreate('file', path, e);
    }
  }

  writeWhole(path: Buffer, bytes: Buffer, executable: boolean): void {
    const fd = this.open(path, executable);
    try {
      writeAll(fd, bytes);
      this.finishFile(fd, executable);
    } catch (e) {
      throw cannotCreate('file', path, e);
    } finally {
      fs.closeSync(fd);
    }
  }

  async writeStreamed(path: Buffer, slices: AsyncIterable<Buffer>, executable: boolean): Promise<void> {
    const fd = this.open(path, executable);
    try {
      for await (const slice of slices) {
        try {
          writeAll(fd, slice);
        } catch (e) {
          throw cannotCreate('file', path, e);
        }
      }
      try {
        this.finishFile(fd, executable);
      } catch (e) {
        throw cannotCreate('file', path, e);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private finishFile(fd: number, executable: boolean): void {
    if (this.canonical) {
      // The mode exactly, where the umask took from it; then mtime 1, as Nix leaves store files.
      if (this.umask & 0o555) fs.fchmodSync(fd, this.mode(executable));
      fs.futimesSync(fd, 1, 1);
    } else if (executable) {
      // As Nix: whoever may read an executable may also run it.
      fs.fchmodSync(fd, fs.fstatSync(fd).mode | 0o111);
    }
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

/** The process's umask, read where reading it does not change it (Linux); else assume it strips everything. */
function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? parseInt(m[1], 8) : 0o777;
  } catch {
    return 0o777;
  }
}

async function readName(r: NarReader, previous: Buffer | undefined): Promise<Buffer> {
  const start = r.offset;
  const name = r.tryStr(MAX_NAME) ?? await r.readStr(
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
function cannotCreate(kind: string, path: Buffer, err: unknown): SlimeError {
  if (err instanceof SlimeError) return err;
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOSPC' ? 'the disk is full' : e.code === 'ENAMETOOLONG' ? 'the path is too long' : e.message;
  return new SlimeError(`cannot restore the NAR: writing ${kind} '${path.toString()}' failed: ${why}; free space or choose another DIR.`);
}

/** Removes a partly restored tree, whose canonical directories may be read-only. */
async function removePartial(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
  } catch {
    makeWritable(p);
    await rm(p, { recursive: true, force: true });
  }
}

function makeWritable(p: string): void {
  try {
    if (!fs.lstatSync(p).isDirectory()) return;
    fs.chmodSync(p, 0o755);
    for (const e of fs.readdirSync(p)) makeWritable(join(p, e));
  } catch {
    // Gone already, or not ours: rm says what is left.
  }
}
