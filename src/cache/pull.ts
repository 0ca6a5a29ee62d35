/**
 * Copies one store path from a binary cache into the store, in one streaming pass:
 * download -> decompress -> hash and restore into a temporary directory
 * (`.slime/tmp/`), each entry written in canonical form (mtime 1, read-only); only
 * when the whole NAR has been read and matched its narinfo is it renamed into the
 * store and registered with the narinfo's signatures. A failure leaves nothing in
 * the store.
 *
 * The caller has checked the narinfo (signature, store path). Its references must be
 * valid when the path is registered: the caller makes them so first, or while this
 * downloads and restores, and passes `referencesValid`, which is awaited before the
 * path is registered.
 *
 * A NAR of WORKER_NAR_SIZE bytes or more is parsed and written on the process's
 * restore thread (./pull-worker.ts, one for all such NARs, started by the first) while
 * this thread downloads, decompresses and hashes it: the CPython output's 321 MB
 * restore then runs beside its own decompression and hashing, and beside the process's
 * other substitutions, on both cores. Smaller NARs are not worth the thread's start
 * (~100 ms of CPU). Without the compiled worker module (tests run from the TypeScript
 * sources) every restore runs on the calling thread.
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
import type { FromRestore, RestoreThreadData, ToRestore } from './pull-worker.js';
import { verifiedNar, type VerifiedNarOptions } from './verified-nar.js';
import { ZSTD_OUT_BYTES } from './compression.js';

/** NARs at least this big are restored on the restore thread. */
export const WORKER_NAR_SIZE = 8 << 20;
/** Bytes handed to the restore thread and not yet written: beyond this the download waits (memory stays flat). */
const IN_FLIGHT_BYTES = 32 << 20;
/**
 * Chunks are handed over in batches of at least this many bytes: a NAR read through a
 * pipe or a socket (xz's tool, an uncompressed NAR over http) arrives in 64 KiB reads,
 * and a message per read (4,900 for the CPython NAR) cost both threads a wake-up each
 * (batches of 1 MiB: the pull 3-4 % faster, 110 ms less CPU, in 11 alternating rounds
 * with the store in memory, when zstd still ran as a tool). zstd's in-process
 * decompressor hands out 1 MiB buffers: a batch each.
 */
const BATCH_BYTES = 1 << 20;
/** zstd output buffers kept for reuse, at most: as many as can be in flight, and a batch more. */
const MAX_SPENT = (IN_FLIGHT_BYTES + BATCH_BYTES) / ZSTD_OUT_BYTES;

export async function pullPath(store: Store, cache: BinaryCache, info: NarInfo, opts: VerifiedNarOptions & { referencesValid?: Promise<void> } = {}): Promise<PathInfo> {
  const finalPath = info.storePath;
  const tempDir = path.join(store.stateDir, 'tmp', `subst-${hashPartOf(finalPath)}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tempDir, { recursive: true });
  try {
    const temp = path.join(tempDir, path.basename(finalPath));
    const worker = info.narSize >= WORKER_NAR_SIZE ? workerModule() : undefined;
    // zstd's output buffers, given back by the restore thread once written, are filled
    // again instead of new memory for every MiB. Decompressing and hashing the CPython
    // quick NAR alone: 555 ms of CPU and 1,200 page faults so, 630 ms and 19,000 with a
    // new buffer each time. Its whole substitution into a tmpfs: 1,465 against 1,504 ms of
    // CPU, 926 against 947 ms of wall (medians of 11 alternating rounds).
    // Only zstd's: another NAR's chunks (a file read, xz's pipe) would pile up unused.
    const spent: ArrayBuffer[] | undefined = worker && info.compression === 'zstd' ? [] : undefined;
    const outputBuffer = spent && ((): Buffer => {
      const reused = spent.pop();
      return reused ? Buffer.from(reused) : Buffer.allocUnsafe(ZSTD_OUT_BYTES);
    });
    const nar = verifiedNar(cache, info, { ...opts, checkFileHash: false, outputBuffer });
    if (worker) await restoreOnThread(worker, temp, nar, spent, opts.signal);
    else await narRestore(nar, temp, { canonical: true });
    await opts.referencesValid;
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

/**
 * The process's restore thread (./pull-worker.ts), started by the first big NAR and
 * kept for the next ones: several restores share it, as jobs. It does not keep the
 * process alive while no restore runs. If it fails or exits, every restore on it fails
 * (each substitution then falls back as for any bad NAR), and the next starts another.
 */
class RestoreThread {
  private static current: RestoreThread | undefined;
  private readonly worker: Worker;
  private readonly jobs = new Map<number, (m: FromRestore | Error) => void>();
  private nextJob = 1;

  static get(file: string): RestoreThread {
    return (RestoreThread.current ??= new RestoreThread(file));
  }

  private constructor(file: string) {
    this.worker = new Worker(file, { workerData: { kind: 'slime-restore' } satisfies RestoreThreadData });
    this.worker.unref();
    this.worker.on('message', (m: FromRestore) => this.jobs.get(m.job)?.(m));
    this.worker.on('error', (e) => this.fail(new SlimeError(`the restore thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new SlimeError(`the restore thread exited with status ${code} before the NAR was restored`)));
  }

  private fail(e: Error): void {
    if (RestoreThread.current === this) RestoreThread.current = undefined;
    for (const deliver of this.jobs.values()) deliver(e);
    this.jobs.clear();
  }

  /** A new job: its number; what the thread says of it goes to `deliver` until `close`. */
  open(temp: string, deliver: (m: FromRestore | Error) => void): number {
    const job = this.nextJob++;
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(job, deliver);
    this.post({ job, start: temp });
    return job;
  }

  close(job: number): void {
    if (this.jobs.delete(job) && this.jobs.size === 0) this.worker.unref();
  }

  post(m: ToRestore, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }
}

/**
 * Restores `nar` at `temp` on the restore thread: this thread reads `nar` (whose checks
 * run as it is read) and hands each chunk over; the thread is told the NAR is whole only
 * once `nar` has ended, i.e. once it is verified, so nothing unverified is renamed into
 * place. The thread gives the chunks' memory back once written: zstd's output buffers
 * among them go to `spent` (when given), for the decompression to fill again. Settles
 * only once the thread is done with the job (restored, failed, or cancelled here), so
 * nothing writes into the temporary once the caller removes it.
 */
async function restoreOnThread(file: string, temp: string, nar: AsyncGenerator<Buffer>, spent: ArrayBuffer[] | undefined, signal: AbortSignal | undefined): Promise<void> {
  const thread = RestoreThread.get(file);
  let inFlight = 0;
  let settled = false;
  let wake: (() => void) | undefined;
  let job = 0;
  const outcome = new Promise<void>((resolve, reject) => {
    job = thread.open(temp, (m) => {
      if (!(m instanceof Error) && 'consumed' in m) {
        inFlight -= m.consumed;
        // At most what can be in flight: the pool never holds more than the thread may.
        if (spent) for (const b of m.spent) if (b.byteLength === ZSTD_OUT_BYTES && spent.length < MAX_SPENT) spent.push(b);
        wake?.();
        return;
      }
      // The job's last word: done, failed, or the thread is gone.
      settled = true;
      thread.close(job);
      wake?.();
      if (m instanceof Error) reject(m);
      else if ('done' in m) resolve();
      else reject(new SlimeError(m.error));
    });
  });
  // Awaited below, or (when this thread fails first) dropped: never an unhandled rejection.
  outcome.catch(() => undefined);
  let batch: ArrayBuffer[] = [];
  let batchBytes = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    thread.post({ job, chunks: batch }, batch);
    batch = [];
    batchBytes = 0;
  };
  try {
    for await (const chunk of nar) {
      if (settled) break;
      if (signal?.aborted) throw signal.reason;
      batch.push(ownArrayBuffer(chunk));
      batchBytes += chunk.length;
      inFlight += chunk.length;
      if (batchBytes >= BATCH_BYTES) flush();
      while (inFlight > IN_FLIGHT_BYTES && !settled) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    if (!settled) {
      flush();
      thread.post({ job, end: true });
    }
    await outcome;
  } finally {
    if (!settled) {
      // The download or its checks failed here: the thread stops the job and removes what it wrote.
      thread.post({ job, cancel: true });
      await outcome.catch(() => undefined);
    }
  }
}

/** The chunk's bytes as an ArrayBuffer of their own, to transfer: the chunk's own when it spans all of it, else a copy. */
function ownArrayBuffer(chunk: Buffer): ArrayBuffer {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) return chunk.buffer;
  const copy = new ArrayBuffer(chunk.length);
  new Uint8Array(copy).set(chunk);
  return copy;
}
