/**
 * Copies one store path from a binary cache into the store, in one streaming pass:
 * download -> decompress -> hash and restore into a temporary directory
 * (`.slime/tmp/`), each entry written in canonical form (mtime 1, read-only); only
 * when the whole NAR has been read and matched its narinfo is it renamed into the
 * store and registered with the narinfo's signatures. A failure leaves nothing in
 * the store.
 *
 * The caller has checked the narinfo (signature, store path) and made its references
 * valid first.
 *
 * A NAR of WORKER_NAR_SIZE bytes or more is restored on a thread of its own
 * (./pull-worker.ts), given where to open the cache (`source`): the CPython output's
 * 321 MB restore then runs beside the process's other substitutions and its own
 * decompression, on both cores, instead of sharing the main thread with them. Smaller
 * NARs are not worth a thread's start. Without the compiled worker module (tests run
 * from the TypeScript sources) every restore runs on the calling thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { SlimeError } from '../errors.js';
import { narRestore } from '../nar/restore.js';
import { hashPartOf } from '../store/paths.js';
import { removeTree, type PathInfo, type Store } from '../store/store.js';
import { placeAndRegister } from '../store/add-path.js';
import type { BinaryCache } from './binary-cache.js';
import type { NarInfo } from './narinfo.js';
import type { PullJob, PullMessage } from './pull-worker.js';
import { BadNarError, verifiedNar, type VerifiedNarOptions } from './verified-nar.js';

/** NARs at least this big are restored on a thread of their own. */
export const WORKER_NAR_SIZE = 8 << 20;

export interface PullOptions extends VerifiedNarOptions {
  /** Where a restore thread opens the cache: the URL as configured (credentials included) and the environment. */
  source?: { url: string; env: NodeJS.ProcessEnv };
}

export async function pullPath(store: Store, cache: BinaryCache, info: NarInfo, opts: PullOptions = {}): Promise<PathInfo> {
  const finalPath = info.storePath;
  const tempDir = path.join(store.stateDir, 'tmp', `subst-${hashPartOf(finalPath)}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tempDir, { recursive: true });
  try {
    const temp = path.join(tempDir, path.basename(finalPath));
    const worker = opts.source && info.narSize >= WORKER_NAR_SIZE ? workerModule() : undefined;
    if (worker) await restoreOnThread(worker, { kind: 'slime-pull', url: opts.source!.url, env: { ...opts.source!.env }, info, temp }, opts);
    else await narRestore(verifiedNar(cache, info, opts), temp, { canonical: true });
    const registered: PathInfo = {
      path: finalPath,
      narHash: `sha256-${info.narHash.toString('base64')}`,
      narSize: info.narSize,
      references: info.references,
      deriver: info.deriver,
      ca: info.ca,
      registrationTime: Math.floor(Date.now() / 1000),
      signatures: info.sigs,
    };
    // The store places and registers it under the path's lock, as it does a build's output.
    return await placeAndRegister(store, temp, registered);
  } finally {
    removeTree(tempDir);
  }
}

let workerFile: string | null | undefined;

/** The compiled worker module beside this one (dist/src/cache/ or the bundle's dist/bin/), or undefined. */
function workerModule(): string | undefined {
  if (workerFile === undefined) {
    const file = fileURLToPath(new URL('./pull-worker.js', import.meta.url));
    workerFile = fs.existsSync(file) ? file : null;
  }
  return workerFile ?? undefined;
}

/** Runs the job on a thread; resolves once the checked tree is at job.temp, rejects as the restore would. */
function restoreOnThread(file: string, job: PullJob, opts: VerifiedNarOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const worker = new Worker(file, { workerData: job });
    let settled = false;
    // Settles once the thread is gone: nothing may still write into the temporary when it is removed.
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate().then(f, f);
    };
    const onAbort = (): void => finish(() => reject(opts.signal!.reason));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: PullMessage) => {
      if ('downloaded' in m) opts.onDownloaded?.(m.downloaded);
      else if ('done' in m) finish(resolve);
      else finish(() => reject(m.bad ? new BadNarError(m.error) : new SlimeError(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(new SlimeError(`the restore thread failed: ${e.message}`))));
    worker.on('exit', (code) => finish(() => reject(new SlimeError(`the restore thread exited with status ${code} before the NAR was restored`))));
  });
}
