/**
 * One streaming pass over a path's NAR: its sha256, its size, and which store path
 * hash parts occur in it (Nix's reference scanning, as `RefScanSink`).
 */
import { createHash } from 'node:crypto';
import { SlimeError } from '../errors.js';
import { isNixBase32Char } from '../hash/base32.js';
import type { HashAlgo } from '../hash/digest.js';
import { narChunks } from './dump.js';

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
  let narSize = 0;
  for await (const chunk of narChunks(path, { transient: true })) {
    sha.update(chunk);
    narSize += chunk.length;
    scanner.feed(chunk);
  }
  return { narHash: sha.digest(), narSize, found: scanner.found() };
}

/** The hash of a path's NAR with any algorithm, as `nix-hash --type ALGO PATH`. */
export async function hashNar(path: string, algo: HashAlgo): Promise<Buffer> {
  const h = createHash(algo);
  for await (const chunk of narChunks(path, { transient: true })) h.update(chunk);
  return h.digest();
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
