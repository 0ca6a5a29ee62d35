/**
 * Streaming NAR serializer, byte-identical to `nix-store --dump`. The wire format
 * is described in ./format.ts.
 *
 * Paths are handled as bytes (Buffers) from readdir onwards, so names that are not
 * valid UTF-8 are archived exactly. File contents are read in chunks and never
 * held whole, so memory does not grow with file or tree size.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SlimeError } from '../errors.js';
import { NAR_MAGIC, ZERO_PADDING, encodeInt, encodeStr, encodeTokens, padLength } from './format.js';

const READ_CHUNK = 256 * 1024;
/** Small pieces (tokens, names) are gathered up to this size before they are passed on. */
const COALESCE_LIMIT = 64 * 1024;

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
  return Readable.from(narChunks(path), { objectMode: false });
}

/** The NAR of `path` as a sequence of chunks; the consumer may keep them, none is reused. */
export async function* narChunks(path: string): AsyncGenerator<Buffer> {
  yield* coalesce(dumpRoot(Buffer.from(path)));
}

async function* dumpRoot(path: Buffer): AsyncGenerator<Buffer> {
  yield MAGIC;
  yield* dumpNode(path);
}

async function* dumpNode(path: Buffer): AsyncGenerator<Buffer> {
  const st = await lstat(path).catch((e: unknown) => {
    throw fsError('read the metadata of', path, e);
  });
  if (st.isSymbolicLink()) {
    yield SYMLINK_HEAD;
    yield encodeStr(await readlink(path, { encoding: 'buffer' }));
    yield CLOSE;
  } else if (st.isFile()) {
    // Nix calls a file executable when its owner may execute it.
    yield st.mode & 0o100 ? EXECUTABLE_HEAD : REGULAR_HEAD;
    yield encodeInt(st.size);
    yield* fileContents(path, st.size);
    yield ZERO_PADDING.subarray(0, padLength(st.size));
    yield CLOSE;
  } else if (st.isDirectory()) {
    yield DIRECTORY_HEAD;
    yield* directoryEntries(path);
    yield CLOSE;
  } else {
    throw new SlimeError(
      `cannot archive '${path.toString()}': it is a ${kindOf(st)}, and a NAR holds only regular files, ` +
        `directories and symlinks; remove it from the tree.`,
    );
  }
}

async function* directoryEntries(dir: Buffer): AsyncGenerator<Buffer> {
  const names = await readdir(dir, { encoding: 'buffer' }).catch((e: unknown) => {
    throw fsError('list', dir, e);
  });
  names.sort(Buffer.compare);
  for (const name of names) {
    yield ENTRY_HEAD;
    yield encodeStr(name);
    yield NODE;
    yield* dumpNode(Buffer.concat([dir, SLASH, name]));
    yield CLOSE;
  }
}

const SLASH = Buffer.from('/');

async function* fileContents(path: Buffer, size: number): AsyncGenerator<Buffer> {
  // O_NOFOLLOW: the path was a regular file when lstat looked; never archive what a
  // symlink swapped in since then points to.
  let read = 0;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    for await (const chunk of file.createReadStream({ highWaterMark: READ_CHUNK })) {
      read += (chunk as Buffer).length;
      if (read > size) break;
      yield chunk as Buffer;
    }
  } catch (e) {
    throw fsError('read', path, e);
  }
  if (read !== size) {
    throw new SlimeError(
      `cannot archive '${path.toString()}': it was ${size} bytes when listed but ${read > size ? 'grew' : 'shrank'} ` +
        `while being read; make sure nothing writes to the tree while it is archived or hashed.`,
    );
  }
}

/** Gathers small pieces into bigger chunks so consumers see few, large buffers. */
async function* coalesce(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  const flush = (): Buffer => {
    const out = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
    pending = [];
    pendingLength = 0;
    return out;
  };
  for await (const piece of pieces) {
    if (piece.length >= COALESCE_LIMIT) {
      if (pendingLength > 0) yield flush();
      yield piece;
      continue;
    }
    pending.push(piece);
    pendingLength += piece.length;
    if (pendingLength >= COALESCE_LIMIT) yield flush();
  }
  if (pendingLength > 0) yield flush();
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
