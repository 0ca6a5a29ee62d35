/**
 * The restore of one big NAR on a thread of its own (see ./pull.ts): the thread opens
 * the cache itself, downloads, checks, decompresses (through the `zstd`/`xz` process),
 * hashes, parses and writes the tree into `temp`, so that the process's main thread
 * and its other substitutions go on meanwhile, and the kernel's work of writing the
 * files runs on another core than the parsing of the next NAR.
 *
 * Protocol (worker_threads):
 *   workerData     = { kind: 'slime-pull', url, env, info: NarInfo (hashes as bytes), temp }
 *   to the main    = { downloaded: n }                       n more compressed bytes (batched)
 *                  | { done: true }                          the tree is at temp, checked
 *                  | { error: message, bad: boolean }        nothing usable at temp; bad: the
 *                                                            cache's fault (a BadNarError)
 * The main thread ends the thread (terminate) to abort; a thread that exits without
 * `done` failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { narRestore } from '../nar/restore.js';
import { openCache } from './binary-cache.js';
import type { NarInfo } from './narinfo.js';
import { BadNarError, verifiedNar } from './verified-nar.js';

export interface PullJob {
  kind: 'slime-pull';
  url: string;
  env: Record<string, string | undefined>;
  info: NarInfo;
  temp: string;
}

export type PullMessage = { downloaded: number } | { done: true } | { error: string; bad: boolean };

/** Progress is posted once this many compressed bytes are downloaded, and at the end. */
const PROGRESS_BATCH = 1 << 20;

async function pull(job: PullJob, post: (m: PullMessage) => void): Promise<void> {
  const bytes = (b: Uint8Array | undefined): Buffer | undefined => (b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const info: NarInfo = { ...job.info, narHash: bytes(job.info.narHash)!, fileHash: bytes(job.info.fileHash) };
  const cache = await openCache(job.url, job.env);
  let pending = 0;
  const onDownloaded = (n: number): void => {
    pending += n;
    if (pending >= PROGRESS_BATCH) {
      post({ downloaded: pending });
      pending = 0;
    }
  };
  await narRestore(verifiedNar(cache, info, { onDownloaded }), job.temp, { canonical: true });
  if (pending > 0) post({ downloaded: pending });
}

const job = workerData as PullJob | undefined;
if (parentPort && job?.kind === 'slime-pull') {
  const port = parentPort;
  pull(job, (m) => port.postMessage(m)).then(
    () => port.postMessage({ done: true } satisfies PullMessage),
    (e: unknown) => port.postMessage({ error: e instanceof Error ? e.message : String(e), bad: e instanceof BadNarError } satisfies PullMessage),
  );
}
