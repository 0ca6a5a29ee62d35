/**
 * `addPath`: turns a finished temporary (a build's output, a `.drv` text, a copied
 * source) into a valid store path. The store's only door: nothing becomes valid
 * another way.
 *
 * A build writes to a temporary path of the same length as the final one (see
 * Store.tempPathFor), because the output must not appear in the store before it is
 * complete, yet a CPython prefix or an rpath bakes the path into the files. So:
 *   0. break hard links: a file linked from outside (`ln /etc/x $out/x`) is copied, so
 *      neither the rewrite nor canonicalisation ever changes a host file (refusing
 *      would fail builds that hard-link within $out, which `cp -l` and installers do;
 *      the NAR has no hard links, so copying changes nothing that is hashed);
 *   1. rewrite every occurrence of the temporary hash part to the final one, in file
 *      contents and symlink targets (same length: offsets, sizes and checksums of
 *      surrounding structures stay valid — Nix rewrites content-addressed outputs so);
 *   2. normalise: mtime 1, read-only, executable bits kept (Nix's canonical form);
 *   3. hash the NAR and scan it for references in one streaming pass;
 *   4. in one write transaction of the store database (no other process can be in one
 *      at the same time: it serves as the path's lock): if another process made the path valid meanwhile, drop
 *      the temporary and keep theirs (never remove a valid path); else remove any
 *      unregistered leftover, rename into place atomically and register the metadata
 *      with the references in one transaction. A failure leaves neither the temporary
 *      nor an unregistered path behind.
 * Temporaries made by `uniqueTempPath` (for paths that cannot refer to themselves) are
 * not rewritten; those made by `tempPathFor` (builds) are.
 */
import fs from 'node:fs';
import path from 'node:path';
import ssri from 'ssri';
import { SlimeError } from '../errors.js';
import { toNixBase32 } from '../hash/base32.js';
import { hashPath } from '../nar/hash.js';
import { hashPartOf } from './paths.js';
import { existsNoFollow, removeTree, type PathInfo, type Store } from './store.js';

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
      // Only what this read filled: the rest of the buffer is a megabyte of an earlier
      // file's bytes, which a small output (most are) would have had searched every time.
      const filled = buf.subarray(0, len);
      for (let i = filled.indexOf(needle, 0); i !== -1; i = filled.indexOf(needle, i + 1)) offsets.push(base + i);
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

/** Replaces every regular file with more than one link by a copy of itself (step 0). */
export async function breakHardLinks(root: string): Promise<void> {
  await walk(root, async (p, st) => {
    if (!st.isFile() || st.nlink < 2) return;
    const copy = `${p}.slime-unlink`;
    fs.copyFileSync(p, copy);
    fs.chmodSync(copy, st.mode & 0o777);
    fs.renameSync(copy, p);
  });
}

export interface AddPathRequest {
  store: Store;
  tempPath: string;
  finalPath: string;
  /** Store paths the output may refer to (the inputs' closure); their hash parts are scanned for. */
  referenceCandidates: Iterable<string>;
  deriver?: string;
  /** The content address, from the NAR hash when the path is content-addressed by it. */
  ca?: (narHash: Buffer) => string;
  buildDurationMs?: number;
  /** Replace the path even if it is registered (its contents are corrupt): `verify --repair`. */
  repair?: boolean;
}

/**
 * Steps 0-4 above; returns the registered metadata (the other process's, if it won).
 * The temporary is gone afterwards, whatever happens.
 */
export async function addPath(req: AddPathRequest): Promise<PathInfo> {
  const { tempPath, finalPath } = req;
  try {
    return await addPathFrom(req);
  } catch (e) {
    throw writeError(e, finalPath);
  } finally {
    removeTree(tempPath);
  }
}

async function addPathFrom(req: AddPathRequest): Promise<PathInfo> {
  const { store, tempPath, finalPath } = req;
  await breakHardLinks(tempPath);
  if (tempPath === store.tempPathFor(finalPath)) await rewriteHashPart(tempPath, store.tempToken(finalPath), hashPartOf(finalPath));
  await canonicalise(tempPath, { skipRootMode: true });
  const candidates = new Map<string, string>();
  for (const c of req.referenceCandidates) candidates.set(hashPartOf(c), c);
  candidates.set(hashPartOf(finalPath), finalPath);
  const { narHash, narSize, found } = await hashPath(tempPath, { scanFor: candidates.keys() });
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
  return placeAndRegister(store, tempPath, info, Boolean(req.repair));
}

/**
 * Moves a complete, canonical temporary into place as `info.path` and registers it,
 * inside one write transaction of the store database, which no other process can
 * hold meanwhile (it is the path lock: a few system calls long): a path another
 * process made valid meanwhile is kept (its metadata returned), a leftover that is
 * not registered is replaced. Used by addPath and by substitution, whose NAR was
 * verified against its narinfo before this.
 */
export async function placeAndRegister(store: Store, tempPath: string, info: PathInfo, repair = false): Promise<PathInfo> {
  const finalPath = info.path;
  return store.db.exclusively(() => {
    if (!repair && store.isValid(finalPath)) return store.queryInfo(finalPath)!;
    // Not valid (or being repaired), and we hold its lock: what is there is a leftover.
    if (existsNoFollow(finalPath)) removeTree(finalPath);
    fs.renameSync(tempPath, finalPath);
    const st = fs.lstatSync(finalPath);
    if (!st.isSymbolicLink()) {
      fs.chmodSync(finalPath, st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444);
    }
    try {
      store.register(info);
    } catch (e) {
      removeTree(finalPath);
      throw e;
    }
    return info;
  });
}

/** A full or failing disk, said with the path and what was being done. */
function writeError(e: unknown, finalPath: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT') {
    const what = code === 'EIO' ? 'an I/O error' : 'the disk is full';
    return new SlimeError(`cannot add ${finalPath} to the store: ${what} (${(e as Error).message}); nothing was registered; free space or check the disk, then run the command again`, 100);
  }
  return e;
}

/** A SHA-256 digest in the SRI form the store metadata uses (`sha256-<base64>`). */
export function sriOf(digest: Buffer): string {
  return ssri.fromHex(digest.toString('hex'), 'sha256').toString();
}

/** The `ca` field of a fixed-output path, as Nix writes it in narinfo. */
export function fixedCa(mode: 'flat' | 'recursive', algo: string, digest: Buffer): string {
  return `fixed:${mode === 'recursive' ? 'r:' : ''}${algo}:${toNixBase32(digest)}`;
}
