/**
 * One streaming pass over a path's NAR: its sha256, its size, and which store path
 * hash parts occur in it (Nix's reference scanning, as `RefScanSink`).
 */
import { createHash, type Hash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SlimeError } from '../errors.js';
import { isNixBase32Char } from '../hash/base32.js';
import type { HashAlgo } from '../hash/digest.js';
import { BLOCK_SIZE, narBlocks } from './dump.js';

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
  const sha = createHash('sha256');
  const scanner = new RefScanner(opts.scanFor ?? []);
  const narSize = await feedNar(path, sha, scanner);
  return { narHash: sha.digest(), narSize, found: scanner.found() };
}

/** The hash of a path's NAR with any algorithm, as `nix-hash --type ALGO PATH`. */
export async function hashNar(path: string, algo: HashAlgo): Promise<Buffer> {
  const h = createHash(algo);
  await feedNar(path, h);
  return h.digest();
}

/** Feeds the NAR of `path` to `hash` (and `scanner`) block by block; returns its size. */
async function feedNar(path: string, hash: Hash, scanner?: RefScanner): Promise<number> {
  const buffer = buffers.pop() ?? Buffer.allocUnsafeSlow(BLOCK_SIZE);
  let size = 0;
  let sinceYield = 0;
  try {
    for (const block of narBlocks(path, buffer)) {
      hash.update(block);
      scanner?.feed(block);
      size += block.length;
      sinceYield += block.length;
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  } finally {
    buffers.push(buffer);
  }
  return size;
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
      if (h.length !== HASH_PART_LENGTH || ![...h].every((c) => isNixBase32Char(c.charCodeAt(0)))) {
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
