/**
 * Turns a finished build's temporary output into a valid store path.
 *
 * A build writes to a temporary path of the same length as the final one (see
 * Store.tempPathFor), because the output must not appear in the store before it is
 * complete, yet a CPython prefix or an rpath bakes the path into the files. So:
 *   1. rewrite every occurrence of the temporary hash part to the final one, in file
 *      contents and symlink targets (same length: offsets, sizes and checksums of
 *      surrounding structures stay valid — Nix rewrites content-addressed outputs so);
 *   2. normalise: mtime 1, read-only, executable bits kept (Nix's canonical form);
 *   3. hash the NAR and scan it for references in one streaming pass;
 *   4. rename into place atomically and register the metadata.
 */
import fs from 'node:fs';
import path from 'node:path';
import { toNixBase32 } from '../hash/base32.js';
import { hashPath } from '../nar/hash.js';
import { hashPartOf } from '../store/paths.js';
import { removeTree, type PathInfo, type Store } from '../store/store.js';
import { sriOf } from './hashes.js';

const CHUNK = 1 << 20;

/** Replaces `from` with `to` (same length) everywhere under `root`, in place. */
export async function rewriteHashPart(root: string, from: string, to: string): Promise<void> {
  if (from.length !== to.length) throw new Error('internal error: hash rewrite must keep lengths');
  const needle = Buffer.from(from);
  const replacement = Buffer.from(to);
  await walk(root, async (p, st) => {
    if (st.isSymbolicLink()) {
      const target = fs.readlinkSync(p);
      if (target.includes(from)) {
        fs.unlinkSync(p);
        fs.symlinkSync(target.split(from).join(to), p);
      }
    } else if (st.isFile()) {
      await rewriteFile(p, st, needle, replacement);
    }
  });
}

async function rewriteFile(p: string, st: fs.Stats, needle: Buffer, replacement: Buffer): Promise<void> {
  const offsets = await findAll(p, needle);
  if (offsets.length === 0) return;
  if (!(st.mode & 0o200)) fs.chmodSync(p, st.mode | 0o200);
  const fd = fs.openSync(p, 'r+');
  try {
    for (const off of offsets) fs.writeSync(fd, replacement, 0, replacement.length, off);
  } finally {
    fs.closeSync(fd);
  }
}

/** Offsets of every occurrence of `needle`, including those that straddle chunk boundaries. */
async function findAll(p: string, needle: Buffer): Promise<number[]> {
  const offsets: number[] = [];
  // Synchronous reads into one buffer: no promise per chunk; other work gets a turn every 32 MiB.
  const fd = fs.openSync(p, 'r');
  const buf = scanBuffers.pop() ?? Buffer.allocUnsafeSlow(CHUNK + 64);
  if (needle.length > 64) throw new Error('internal error: a hash part is 32 bytes');
  try {
    let carry = 0;
    let base = 0;
    let sinceYield = 0;
    for (;;) {
      const bytesRead = fs.readSync(fd, buf, carry, CHUNK, null);
      if (bytesRead === 0) break;
      const len = carry + bytesRead;
      let i = buf.indexOf(needle, 0);
      while (i !== -1 && i + needle.length <= len) {
        offsets.push(base + i);
        i = buf.indexOf(needle, i + 1);
      }
      carry = Math.min(needle.length - 1, len);
      buf.copy(buf, 0, len - carry, len);
      base += len - carry;
      sinceYield += bytesRead;
      if (sinceYield >= 32 * CHUNK) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    fs.closeSync(fd);
    scanBuffers.push(buf);
  }
  return [...new Set(offsets)];
}

/** Scan buffers, reused: a scan that yields keeps its own until it ends, so concurrent finalizations never share one. */
const scanBuffers: Buffer[] = [];

/** Nix's canonical form: mtime 1, no write bits, executable only where the owner could execute. */
export async function canonicalise(root: string, opts: { skipRootMode?: boolean } = {}): Promise<void> {
  await walk(root, async (p, st) => {
    if (!st.isSymbolicLink() && !(opts.skipRootMode && p === root)) {
      fs.chmodSync(p, st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444);
    }
    fs.lutimesSync(p, 1, 1);
  }, 'post');
}

type Visitor = (p: string, st: fs.Stats) => Promise<void>;

async function walk(p: string, visit: Visitor, order: 'pre' | 'post' = 'pre'): Promise<void> {
  const st = fs.lstatSync(p);
  if (order === 'pre') await visit(p, st);
  if (st.isDirectory()) {
    if (!(st.mode & 0o200)) fs.chmodSync(p, st.mode | 0o700);
    for (const e of fs.readdirSync(p)) await walk(path.join(p, e), visit, order);
  }
  if (order === 'post') await visit(p, st);
}

export interface FinalizeRequest {
  store: Store;
  tempPath: string;
  finalPath: string;
  /** Store paths the output may refer to (the inputs' closure); their hash parts are scanned for. */
  referenceCandidates: Iterable<string>;
  deriver?: string;
  /** The content address, from the NAR hash when the path is content-addressed by it. */
  ca?: (narHash: Buffer) => string;
  buildDurationMs?: number;
}

/** Steps 1-4 above; returns the registered metadata. The temp path is gone afterwards. */
export async function finalizeOutput(req: FinalizeRequest): Promise<PathInfo> {
  const { store, tempPath, finalPath } = req;
  await rewriteHashPart(tempPath, store.tempToken(finalPath), hashPartOf(finalPath));
  await canonicalise(tempPath, { skipRootMode: true });
  const candidates = new Map<string, string>();
  for (const c of req.referenceCandidates) candidates.set(hashPartOf(c), c);
  candidates.set(hashPartOf(finalPath), finalPath);
  const { narHash, narSize, found } = await hashPath(tempPath, { scanFor: candidates.keys() });
  if (fs.existsSync(finalPath)) removeTree(finalPath);
  fs.renameSync(tempPath, finalPath);
  const st = fs.lstatSync(finalPath);
  if (!st.isSymbolicLink()) {
    fs.chmodSync(finalPath, st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444);
  }
  const info: PathInfo = {
    path: finalPath,
    narHash: sriOf(narHash),
    narSize,
    references: found.map((h) => candidates.get(h)!).sort(),
    deriver: req.deriver,
    ca: req.ca?.(narHash),
    registrationTime: Math.floor(Date.now() / 1000),
    buildDurationMs: req.buildDurationMs,
    signatures: [],
  };
  store.register(info);
  return info;
}

/** The `ca` field of a fixed-output path, as Nix writes it in narinfo. */
export function fixedCa(mode: 'flat' | 'recursive', algo: string, digest: Buffer): string {
  return `fixed:${mode === 'recursive' ? 'r:' : ''}${algo}:${toNixBase32(digest)}`;
}
