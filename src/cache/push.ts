/**
 * `slime cache push`: copies store paths, with their closure, into a binary cache.
 *
 * One query per path (in parallel) finds what the cache already has; that is
 * skipped, so pushing again does nothing. Each missing path is dumped as a NAR,
 * compressed and hashed in one streaming pass into a temporary file (the file's hash
 * names it, so it must be known before the upload), uploaded, and only then is its
 * narinfo written: no reader ever sees a narinfo without its NAR. Paths go up after
 * their references, so a reader never sees a narinfo whose references are missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PQueue from 'p-queue';
import { SlimeError } from '../errors.js';
import { toNixBase32 } from '../hash/base32.js';
import { narDump } from '../nar/dump.js';
import { hashPartOf } from '../store/paths.js';
import type { PathInfo, Store } from '../store/store.js';
import { type BinaryCache, readCacheInfoFile } from './binary-cache.js';
import { parseCacheInfo, serializeCacheInfo } from './cache-info.js';
import { compress, narExtension, type WritableCompression } from './compression.js';
import { fingerprint, narInfoFileFor, serializeNarInfo, type NarInfo } from './narinfo.js';
import { signFingerprint, type SecretKey } from './signing.js';

export interface PushOptions {
  store: Store;
  cache: BinaryCache;
  /** Store paths to push; their closure goes with them. */
  paths: string[];
  compression: WritableCompression;
  key?: SecretKey;
  jobs: number;
  log: (line: string) => void;
}

export interface PushSummary {
  pushed: number;
  alreadyThere: number;
  narBytes: number;
  fileBytes: number;
}

export async function pushPaths(opts: PushOptions): Promise<PushSummary> {
  const { store, cache } = opts;
  await ensureCacheInfo(cache, store.dir);
  for (const p of opts.paths) {
    if (!store.isValid(p)) throw new SlimeError(`cannot push ${p}: it is not valid in the store ${store.dir}; realize it first`);
  }
  const closure = [...store.closure(opts.paths)].sort();
  const infos = new Map<string, PathInfo>(closure.map((p) => [p, store.queryInfo(p)!]));
  const queries = new PQueue({ concurrency: Math.max(8, opts.jobs * 4) });
  const present = await Promise.all(closure.map((p) => queries.add(() => cache.hasFile(narInfoFileFor(p))) as Promise<boolean>));
  const missing = new Set(closure.filter((_, i) => !present[i]));
  const summary: PushSummary = { pushed: 0, alreadyThere: closure.length - missing.size, narBytes: 0, fileBytes: 0 };
  if (missing.size === 0) return summary;

  const uploads = new PQueue({ concurrency: Math.max(1, opts.jobs) });
  const done = new Map<string, Promise<void>>();
  const upload = (p: string): Promise<void> => {
    let d = done.get(p);
    if (!d) {
      const refs = infos.get(p)!.references.filter((r) => r !== p && missing.has(r));
      d = Promise.all(refs.map(upload)).then(() =>
        uploads.add(async () => {
          const { narSize, fileSize } = await pushOne(opts, infos.get(p)!);
          summary.pushed++;
          summary.narBytes += narSize;
          summary.fileBytes += fileSize;
          opts.log(`pushed ${p} (${mb(narSize)} NAR, ${mb(fileSize)} ${opts.compression})`);
        }),
      );
      done.set(p, d);
    }
    return d;
  };
  const results = await Promise.allSettled([...missing].map(upload));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return summary;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e6 ? 3 : 1)} MB`;

/** A cache without nix-cache-info gets one (as Nix does); one for another store dir is refused. */
export async function ensureCacheInfo(cache: BinaryCache, storeDir: string): Promise<void> {
  const text = await readCacheInfoFile(cache);
  if (text === undefined) {
    await cache.putText('nix-cache-info', serializeCacheInfo({ storeDir }), 'text/x-nix-cache-info');
    return;
  }
  const info = parseCacheInfo(text);
  if (info.storeDir !== storeDir) {
    throw new SlimeError(
      `binary cache ${cache.url} is for store dir ${info.storeDir}, not ${storeDir}; push to another cache (store paths differ between store dirs)`,
    );
  }
}

async function pushOne(opts: PushOptions, info: PathInfo): Promise<{ narSize: number; fileSize: number }> {
  const { cache, compression } = opts;
  const ext = narExtension(compression);
  // Prepared beside the cache's NARs when it is local (then moved), else in the temp dir: never in the store, which may be read-only.
  const temp = path.join(cache.stagingDir ?? os.tmpdir(), `.push-${hashPartOf(info.path)}-${randomBytes(4).toString('hex')}${ext}`);
  fs.mkdirSync(path.dirname(temp), { recursive: true });
  try {
    const narSha = createHash('sha256');
    let narSize = 0;
    async function* nar(): AsyncGenerator<Buffer> {
      for await (const chunk of narDump(info.path) as AsyncIterable<Buffer>) {
        narSha.update(chunk);
        narSize += chunk.length;
        yield chunk;
      }
    }
    const fileSha = createHash('sha256');
    let fileSize = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        fileSha.update(chunk);
        fileSize += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(Readable.from(compress(nar(), compression)), tap, createWriteStream(temp, { flags: 'wx' }));
    const narHash = narSha.digest();
    const registered = Buffer.from(info.narHash.replace(/^sha256-/, ''), 'base64');
    if (!narHash.equals(registered) || narSize !== info.narSize) {
      throw new SlimeError(
        `store path ${info.path} is corrupt: its NAR no longer matches the hash registered for it; ` +
          `run \`slime verify --repair\` before pushing it`,
      );
    }
    const fileHash = fileSha.digest();
    const url = `nar/${toNixBase32(fileHash)}${ext}`;
    if (await cache.hasFile(url)) fs.rmSync(temp, { force: true });
    else await cache.putFile(url, temp, 'application/x-nix-nar');
    const narInfo: NarInfo = {
      storePath: info.path,
      url,
      compression,
      fileHash,
      fileSize,
      narHash,
      narSize,
      references: [...info.references].sort(),
      deriver: info.deriver,
      sigs: [],
      ca: info.ca,
    };
    narInfo.sigs = signaturesFor(narInfo, info.signatures, opts.key);
    await cache.putText(narInfoFileFor(info.path), serializeNarInfo(narInfo), 'text/x-nix-narinfo');
    return { narSize, fileSize };
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** The path's own signatures, with this key's replacing any earlier one by the same name. */
function signaturesFor(info: NarInfo, existing: string[], key: SecretKey | undefined): string[] {
  if (!key) return existing;
  return [...existing.filter((s) => !s.startsWith(`${key.name}:`)), signFingerprint(key, fingerprint(info))];
}
