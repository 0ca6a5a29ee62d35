/**
 * The restores of big NARs on a thread of their own (see ./pull.ts): the thread parses
 * each NAR and writes its tree into its `temp` (synchronous system calls,
 * ../nar/restore.ts), while the calling thread downloads, decompresses and hashes it.
 * Split so, neither waits for the other: the decompression and the hashing (~0.5 s of
 * CPU for the CPython NAR) run beside the kernel's work of creating the files (as much
 * again), and a decompressing tool's output is drained as it comes (a restore that read
 * it itself left the `zstd` tool blocked on a full 64 KiB socket buffer while it wrote
 * files, and then waited for it in turn).
 *
 * One thread serves every restore of the process, several at once (jobs, by number):
 * starting a thread costs ~100 ms of CPU (a Node isolate, the modules it loads), which a
 * closure of two big NARs paid twice.
 *
 * Protocol (worker_threads; every message names its job):
 *   workerData    = { kind: 'slime-restore' }
 *   to the thread = { job, start: temp }          a new NAR, to be restored at temp
 *                 | { job, chunks: ArrayBuffer[] } its next bytes, in order (transferred)
 *                 | { job, end: true }            the NAR is whole and verified: finish
 *                 | { job, cancel: true }         stop: the download or its checks failed
 *   to the main   = { job, consumed: n, spent }   n more bytes parsed and written (flow control);
 *                                                 spent: the memory of the chunks read past
 *                                                 (transferred back, for the calling thread
 *                                                 to fill again)
 *                 | { job, done: true }           the tree is at temp
 *                 | { job, error: message }       the NAR is malformed, a write failed, or
 *                                                 the job was cancelled; nothing is left at
 *                                                 temp, and nothing more is written for it
 */
import { parentPort, workerData } from 'node:worker_threads';
import { narRestore } from '../nar/restore.js';

export interface RestoreThreadData {
  kind: 'slime-restore';
}

export type ToRestore =
  | { job: number; start: string }
  | { job: number; chunks: ArrayBuffer[] }
  | { job: number; end: true }
  | { job: number; cancel: true };
export type FromRestore =
  | { job: number; consumed: number; spent: ArrayBuffer[] }
  | { job: number; done: true }
  | { job: number; error: string };

/** The thread says what it has consumed once this much more is parsed and written. */
const ACK_BYTES = 1 << 20;

interface Job {
  queue: Buffer[];
  ended: boolean;
  cancelled: boolean;
  wake?: () => void;
}

if (parentPort && (workerData as RestoreThreadData | undefined)?.kind === 'slime-restore') {
  const port = parentPort;
  const jobs = new Map<number, Job>();
  const post = (m: FromRestore, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

  const start = (id: number, temp: string): void => {
    const job: Job = { queue: [], ended: false, cancelled: false };
    jobs.set(id, job);
    let unacked = 0;
    let spent: ArrayBuffer[] = [];
    const source = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        if (job.cancelled) throw new Error('cancelled');
        const next = job.queue.shift();
        if (next !== undefined) {
          yield next;
          // The parser asks for the next chunk: it holds no slice of this one any more (NarReader's contract).
          unacked += next.length;
          spent.push(next.buffer as ArrayBuffer);
          if (unacked >= ACK_BYTES) {
            post({ job: id, consumed: unacked, spent }, spent);
            unacked = 0;
            spent = [];
          }
          continue;
        }
        if (job.ended) return;
        await new Promise<void>((resolve) => (job.wake = resolve));
        job.wake = undefined;
      }
    };
    narRestore(source(), temp, { canonical: true }).then(
      () => post({ job: id, done: true }),
      (e: unknown) => post({ job: id, error: e instanceof Error ? e.message : String(e) }),
    ).finally(() => jobs.delete(id));
  };

  port.on('message', (m: ToRestore) => {
    if ('start' in m) return start(m.job, m.start);
    // A job that has failed on its own is gone; what the calling thread sent meanwhile is dropped.
    const job = jobs.get(m.job);
    if (job === undefined) return;
    if ('chunks' in m) for (const c of m.chunks) job.queue.push(Buffer.from(c));
    else if ('end' in m) job.ended = true;
    else job.cancelled = true;
    job.wake?.();
  });
}
