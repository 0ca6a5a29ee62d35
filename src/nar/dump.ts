/**
 * Streaming NAR serializer, byte-identical to `nix-store --dump`. The wire format
 * is described in ./format.ts.
 *
 * Paths are handled as bytes (Buffers) from readdir onwards, so names that are not
 * valid UTF-8 are archived exactly. File contents are read in blocks and never
 * held whole, so memory does not grow with file or tree size. One synchronous walk
 * (narBlocks) serves dumping, hashing and the registration of build outputs.
 */
import { type Dirent, type Stats, closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { Readable } from 'node:stream';
import { SlimeError } from '../errors.js';
import { NAR_MAGIC, encodeStr, encodeTokens, padLength } from './format.js';

const MAGIC = encodeStr(NAR_MAGIC);
const REGULAR_HEAD = encodeTokens('(', 'type', 'regular', 'contents');
const EXECUTABLE_HEAD = encodeTokens('(', 'type', 'regular', 'executable', '', 'contents');
const SYMLINK_HEAD = encodeTokens('(', 'type', 'symlink', 'target');
const DIRECTORY_HEAD = encodeTokens('(', 'type', 'directory');
const ENTRY_HEAD = encodeTokens('entry', '(', 'name');
const NODE = encodeTokens('node');
const CLOSE = encodeTokens(')');

/** The NAR of `path` as a byte stream. */
export function narDump(path: string): Readable {
  const blocks = narBlocks(path, Buffer.allocUnsafeSlow(BLOCK_SIZE));
  return new Readable({
    highWaterMark: BLOCK_SIZE,
    read() {
      try {
        const next = blocks.next();
        // Copied: the block is the walk's buffer, which the next block overwrites.
        this.push(next.done ? null : Buffer.from(next.value));
      } catch (e) {
        this.destroy(e as Error);
      }
    },
  });
}

/** The size of the blocks narBlocks yields, and of its reads: few, large system calls. */
export const BLOCK_SIZE = 1 << 20;

/**
 * The NAR of `path` as a sequence of full blocks of `buffer` (the last one may be
 * shorter): the walk is synchronous, tokens are copied into the buffer and file
 * contents are read straight into it, so hashing a tree costs one read(2) per MiB or
 * per small file and one digest update per MiB, with no promise per piece. Each
 * block is `buffer` itself: use it before asking for the next, or hand the walk
 * another buffer of the same size with `next(other)` and keep the block (a hash on
 * another thread does so). The consumer decides when to let the event loop run
 * (between blocks).
 */
export function* narBlocks(path: string, buffer: Buffer): Generator<Buffer, void, Buffer | undefined> {
  const cap = buffer.length;
  if (cap < 64 * 1024) throw new Error('internal error: narBlocks needs a buffer of at least 64 KiB');
  const take = (next: Buffer | undefined): Buffer => {
    if (next !== undefined && next.length !== cap) throw new Error('internal error: narBlocks was handed a buffer of another size');
    return next ?? buffer;
  };
  let pos = 0;
  /** Copies a small piece (tokens: never more than a few KiB). */
  const put = (piece: Buffer): void => {
    buffer.set(piece, pos);
    pos += piece.length;
  };
  /** `int(n)` in place (n < 2^53). */
  const putInt = (n: number): void => {
    buffer.writeUInt32LE(n >>> 0, pos);
    buffer.writeUInt32LE(Math.floor(n / 0x1_0000_0000), pos + 4);
    pos += 8;
  };
  /** `str(bytes)` in place, without building it apart first: a name, a symlink target. */
  const putStr = (bytes: Buffer): void => {
    putInt(bytes.length);
    put(bytes);
    const pad = padLength(bytes.length);
    buffer.fill(0, pos, pos + pad);
    pos += pad;
  };
  const strLength = (bytes: Buffer): number => 8 + bytes.length + padLength(bytes.length);
  const full = (n: number): boolean => pos + n > cap;

  interface Frame {
    dir: Buffer;
    entries: Dirent<Buffer>[];
    next: number;
  }
  const stack: Frame[] = [];

  put(MAGIC);
  let current: Buffer | undefined = Buffer.from(path);
  /** The directory listing says `current` is a regular file: opened first, then fstat'ed (cheaper than lstat, then open). */
  let listedAsFile = false;
  for (;;) {
    if (current !== undefined) {
      const p = current;
      current = undefined;
      const opened = listedAsFile ? openListedFile(p) : undefined;
      const st = opened?.st ?? lstatSyncOf(p);
      if (st.isSymbolicLink()) {
        const target = readlinkSyncOf(p);
        const n = SYMLINK_HEAD.length + strLength(target) + CLOSE.length;
        if (full(n)) {
          buffer = take(yield buffer.subarray(0, pos));
          pos = 0;
        }
        put(SYMLINK_HEAD);
        putStr(target);
        put(CLOSE);
      } else if (st.isFile()) {
        // Nix calls a file executable when its owner may execute it.
        const head = st.mode & 0o100 ? EXECUTABLE_HEAD : REGULAR_HEAD;
        const fd = opened?.fd ?? openSyncOf(p);
        try {
          if (full(head.length + 8)) {
            buffer = take(yield buffer.subarray(0, pos));
            pos = 0;
          }
          put(head);
          putInt(st.size);
          // Exactly the size lstat (or fstat) gave is read, as Nix does, so the NAR stays well-formed
          // even if the file grows meanwhile; a file that shrank cannot be archived.
          for (let read = 0; read < st.size; ) {
            if (pos === cap) {
              buffer = take(yield buffer);
              pos = 0;
            }
            const n = readSyncOf(fd, p, buffer, pos, Math.min(cap - pos, st.size - read));
            if (n === 0) throw shrankWhileReading(p, st.size, read);
            pos += n;
            read += n;
          }
        } finally {
          closeSync(fd);
        }
        const pad = padLength(st.size);
        if (full(pad + CLOSE.length)) {
          buffer = take(yield buffer.subarray(0, pos));
          pos = 0;
        }
        buffer.fill(0, pos, pos + pad);
        pos += pad;
        put(CLOSE);
      } else if (st.isDirectory()) {
        if (full(DIRECTORY_HEAD.length)) {
          buffer = take(yield buffer.subarray(0, pos));
          pos = 0;
        }
        put(DIRECTORY_HEAD);
        stack.push({ dir: p, entries: readdirSyncOf(p).sort((a, b) => Buffer.compare(a.name, b.name)), next: 0 });
        continue;
      } else {
        throw new SlimeError(
          `cannot archive '${p.toString()}': it is a ${kindOf(st)}, and a NAR holds only regular files, ` +
            `directories and symlinks; remove it from the tree`,
        );
      }
      // A file or symlink is complete: close its directory entry, if it is in one.
      if (stack.length === 0) break;
      if (full(CLOSE.length)) {
        buffer = take(yield buffer.subarray(0, pos));
        pos = 0;
      }
      put(CLOSE);
    }
    const top = stack[stack.length - 1];
    if (top.next === top.entries.length) {
      // The directory is complete: close it, and the entry it is in.
      stack.pop();
      const n = stack.length > 0 ? 2 * CLOSE.length : CLOSE.length;
      if (full(n)) {
        buffer = take(yield buffer.subarray(0, pos));
        pos = 0;
      }
      put(CLOSE);
      if (stack.length === 0) break;
      put(CLOSE);
      continue;
    }
    const entry = top.entries[top.next++];
    const name = entry.name;
    if (full(ENTRY_HEAD.length + strLength(name) + NODE.length)) {
      buffer = take(yield buffer.subarray(0, pos));
      pos = 0;
    }
    put(ENTRY_HEAD);
    putStr(name);
    put(NODE);
    current = childPath(top.dir, name);
    listedAsFile = entry.isFile();
  }
  if (pos > 0) yield buffer.subarray(0, pos);
}

function lstatSyncOf(path: Buffer): Stats {
  try {
    return lstatSync(path);
  } catch (e) {
    throw fsError('read the metadata of', path, e);
  }
}

function readlinkSyncOf(path: Buffer): Buffer {
  try {
    return readlinkSync(path, { encoding: 'buffer' });
  } catch (e) {
    throw fsError('read the symlink', path, e);
  }
}

/**
 * A path its directory listed as a regular file, opened (O_NOFOLLOW) and fstat'ed; or
 * undefined when it is no longer one (replaced since the listing: a symlink fails to
 * open, a directory or other file is closed again), and the caller lstats it as any path.
 */
function openListedFile(path: Buffer): { fd: number; st: Stats } | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a named pipe put in its place must not block the open (it is then refused as one).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, st };
  } catch {
    // lstat and open again say what went wrong.
  }
  closeSync(fd);
  return undefined;
}

function readdirSyncOf(path: Buffer): Dirent<Buffer>[] {
  try {
    return readdirSync(path, { encoding: 'buffer', withFileTypes: true });
  } catch (e) {
    throw fsError('list', path, e);
  }
}

function openSyncOf(path: Buffer): number {
  // O_NOFOLLOW: the path was a regular file when lstat looked; never archive what a
  // symlink swapped in since then points to.
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    throw fsError('open', path, e);
  }
}

function readSyncOf(fd: number, path: Buffer, buffer: Buffer, offset: number, length: number): number {
  try {
    return readSync(fd, buffer, offset, length, null);
  } catch (e) {
    throw fsError('read', path, e);
  }
}

/** `dir/name` as bytes (small: from Node's buffer pool, no array as Buffer.concat takes). */
function childPath(dir: Buffer, name: Buffer): Buffer {
  const p = Buffer.allocUnsafe(dir.length + 1 + name.length);
  p.set(dir, 0);
  p[dir.length] = 0x2f;
  p.set(name, dir.length + 1);
  return p;
}

function shrankWhileReading(path: Buffer, size: number, read: number): SlimeError {
  return new SlimeError(
    `cannot archive '${path.toString()}': it was ${size} bytes when listed but ended after ${read} while being read; ` +
      `make sure nothing writes to the tree while it is archived or hashed.`,
  );
}

function kindOf(st: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isFIFO()) return 'named pipe';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}

function fsError(action: string, path: Buffer, e: unknown): SlimeError {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof SlimeError) return e;
  const why = err.code === 'ENOENT' ? 'it does not exist' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return new SlimeError(`cannot ${action} '${path.toString()}' to archive it: ${why}; check the path and its permissions.`);
}
