/**
 * Byte ranges of open files, compared in fixed-size chunks: the diff modules look at
 * files of hundreds of megabytes (a fat-LTO libpython3.11.a) without reading one
 * whole into memory.
 */
import fs from 'node:fs';

const CHUNK = 1 << 20;

/** A slice of an open file: an ELF inside an ar member, a tar member's data, a whole file. */
export interface Range {
  fd: number;
  offset: number;
  length: number;
}

export function wholeFile(fd: number): Range {
  return { fd, offset: 0, length: fs.fstatSync(fd).size };
}

export function readAt(r: Range, at: number, length: number): Buffer {
  const n = Math.max(0, Math.min(length, r.length - at));
  const buf = Buffer.alloc(n);
  let done = 0;
  while (done < n) {
    const got = fs.readSync(r.fd, buf, done, n - done, r.offset + at + done);
    if (got === 0) break;
    done += got;
  }
  return done === n ? buf : buf.subarray(0, done);
}

export function sub(r: Range, at: number, length: number): Range {
  const start = Math.min(Math.max(0, at), r.length);
  return { fd: r.fd, offset: r.offset + start, length: Math.max(0, Math.min(length, r.length - start)) };
}

/**
 * Offset of the first byte that differs, relative to the ranges' starts; when one is
 * a prefix of the other, the shorter one's length; undefined when they are equal.
 */
export function firstDifference(a: Range, b: Range): number | undefined {
  const common = Math.min(a.length, b.length);
  for (let at = 0; at < common; at += CHUNK) {
    const n = Math.min(CHUNK, common - at);
    const x = readAt(a, at, n);
    const y = readAt(b, at, n);
    if (!x.equals(y)) {
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return at + i;
    }
  }
  return a.length === b.length ? undefined : common;
}

export function withFiles<T>(a: string, b: string, f: (fa: number, fb: number) => T): T {
  const fa = fs.openSync(a, 'r');
  try {
    const fb = fs.openSync(b, 'r');
    try {
      return f(fa, fb);
    } finally {
      fs.closeSync(fb);
    }
  } finally {
    fs.closeSync(fa);
  }
}
