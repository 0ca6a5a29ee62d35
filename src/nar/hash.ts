/**
 * One streaming pass over a path's NAR: its sha256, its size, and which store path
 * hash parts occur in it (Nix's reference scanning, as `RefScanSink`).
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SlimeError } from '../errors.js';
import { isNixBase32Char } from '../hash/base32.js';
import type { HashAlgo } from '../hash/digest.js';
import { BLOCK_SIZE, narBlocks } from './dump.js';
import { remoteHash, type RemoteHash } from './hash-thread.js';

/** Hashing runs synchronously in blocks; other work (a TUI, other builds' logs) gets a turn this often. */
const YIELD_EVERY_BYTES = 32 * BLOCK_SIZE;
/** Walk buffers, reused across calls: hashing many small outputs allocates nothing. */
const buffers: Buffer[] = [];

export const HASH_PART_LENGTH = 32;

export interface PathHash {
  narHash: Buffer;
  narSize: number;
  /** The hash parts from `scanFor` that occur in the NAR, sorted. */
  found: string[];
}

export async function hashPath(path: string, opts: { scanFor?: Iterable<string> } = {}): Promise<PathHash> {
  const scanner = new RefScanner(opts.scanFor ?? []);
  const { digest, size } = await feedNar(path, 'sha256', scanner);
  return { narHash: digest, narSize: size, found: scanner.found() };
}

/** The hash of a path's NAR with any algorithm, as `nix-hash --type ALGO PATH`. */
export async function hashNar(path: string, algo: HashAlgo): Promise<Buffer> {
  return (await feedNar(path, algo)).digest;
}

/**
 * Blocks one hash may have read and not yet hashed. A NAR that fits in
 * BLOCKS_HASHED_HERE is hashed here, on the main thread; a bigger one on the hashing
 * thread (./hash-thread.ts) while the walk reads on: the blocks go there and come
 * back, never copied. Up to BLOCKS_AHEAD are then in flight: the thread takes some
 * 40 ms to start, which the walk spends reading rather than waiting, and a run of
 * small files (slow to read) or big ones (slow to hash) is evened out. With 4 blocks
 * in flight `slime hash path` of the CPython quick output took 1.2x `nix-hash`, with
 * 8, 16, 32 and 64: 395, 378, 366 and 370 ms against its 332 ms (medians of 21
 * alternating runs, 2026-12-03).
 */
const BLOCKS_HASHED_HERE = 4;
const BLOCKS_AHEAD = 32;

/** Walks the NAR of `path` block by block into `algo` (and `scanner`); its digest and size. */
async function feedNar(path: string, algo: HashAlgo, scanner?: RefScanner): Promise<{ digest: Buffer; size: number }> {
  const free: Buffer[] = [];
  let allocated = 0;
  const more = (upTo: number) => {
    for (; allocated < upTo; allocated++) free.push(buffers.pop() ?? Buffer.allocUnsafeSlow(BLOCK_SIZE));
  };
  more(BLOCKS_HASHED_HERE);
  /** Read, not hashed yet, while the NAR may still fit in BLOCKS_HASHED_HERE. */
  const held: Buffer[] = [];
  let remote: RemoteHash | undefined;
  let waiting: ((buf: Buffer) => void) | undefined;
  const returned = (buf: Buffer) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(buf);
    } else free.push(buf);
  };
  let size = 0;
  let sinceYield = 0;
  try {
    const walk = narBlocks(path, free.pop()!);
    for (let r = walk.next(); !r.done; ) {
      const block = r.value;
      scanner?.feed(block);
      size += block.length;
      sinceYield += block.length;
      if (remote) remote.update(block);
      else held.push(block);
      let next = free.pop();
      if (next === undefined && !remote) {
        remote = remoteHash(algo, buffers, returned);
        for (const b of held.splice(0)) remote.update(b);
        more(BLOCKS_AHEAD);
        next = free.pop();
      }
      if (next === undefined) {
        next = free.pop() ?? (await new Promise<Buffer>((resolve) => (waiting = resolve)));
        sinceYield = 0;
      } else if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await yieldToLoop();
      }
      r = walk.next(next);
    }
    if (remote) {
      const digest = await remote.digest();
      remote = undefined;
      return { digest, size };
    }
    const hash = createHash(algo);
    for (const b of held) hash.update(b);
    return { digest: hash.digest(), size };
  } finally {
    remote?.drop();
    // Blocks still on the hashing thread come back to `buffers` there (a dropped hash's included).
    for (const b of [...free, ...held]) buffers.push(b.length === BLOCK_SIZE ? b : Buffer.from(b.buffer));
  }
}

/** 32 Nix base32 characters; by char code, not a copy of the string per call (a build checks its whole input closure). */
function isHashPartText(h: string): boolean {
  if (h.length !== HASH_PART_LENGTH) return false;
  for (let i = 0; i < HASH_PART_LENGTH; i++) if (!isNixBase32Char(h.charCodeAt(i))) return false;
  return true;
}

/**
 * Finds which of a set of 32-char hash parts occur in a byte stream fed in chunks,
 * including occurrences split across chunks.
 */
export class RefScanner {
  private readonly wanted: Set<string>;
  private readonly seen = new Set<string>();
  /** The last HASH_PART_LENGTH - 1 bytes fed, where a split occurrence begins. */
  private tail = Buffer.alloc(0);

  constructor(hashParts: Iterable<string>) {
    this.wanted = new Set();
    for (const h of hashParts) {
      if (!isHashPartText(h)) {
        throw new SlimeError(
          `cannot scan for reference '${h}': a store path hash part is ${HASH_PART_LENGTH} Nix base32 characters; ` +
            `pass the part of the store path before the first '-'.`,
        );
      }
      this.wanted.add(h);
    }
  }

  feed(chunk: Buffer): void {
    if (this.wanted.size === this.seen.size) return;
    const keep = HASH_PART_LENGTH - 1;
    if (this.tail.length > 0) this.search(Buffer.concat([this.tail, chunk.subarray(0, keep)]));
    this.search(chunk);
    this.tail =
      chunk.length >= keep
        ? Buffer.from(chunk.subarray(chunk.length - keep))
        : Buffer.concat([this.tail, chunk]).subarray(-keep);
  }

  found(): string[] {
    return [...this.seen].sort();
  }

  /** Nix's search: check a window from its end and jump past any byte that cannot be in a hash. */
  private search(s: Buffer): void {
    let i = 0;
    while (i + HASH_PART_LENGTH <= s.length) {
      let j = HASH_PART_LENGTH - 1;
      while (j >= 0 && isNixBase32Char(s[i + j])) j--;
      if (j >= 0) {
        i += j + 1;
        continue;
      }
      const candidate = s.toString('latin1', i, i + HASH_PART_LENGTH);
      if (this.wanted.has(candidate)) this.seen.add(candidate);
      i++;
    }
  }
}
