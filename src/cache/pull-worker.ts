/**
 * The restore of one big NAR on a thread of its own (see ./pull.ts): the thread parses
 * the NAR and writes the tree into `temp` (synchronous system calls, ../nar/restore.ts),
 * while the calling thread downloads, decompresses and hashes it. Split so, neither
 * waits for the other: the decompression and the hashing (~0.5 s of CPU for the CPython
 * NAR) run beside the kernel's work of creating the files (as much again), and a
 * decompressing tool's output is drained as it comes (a restore that read it itself left
 * the `zstd` tool blocked on a full 64 KiB socket buffer while it wrote files, and then
 * waited for it in turn).
 *
 * Protocol (worker_threads):
 *   workerData    = { kind: 'slime-restore', temp }
 *   to the thread = { chunks: ArrayBuffer[] }     the next bytes of the NAR, in order (transferred)
 *                 | { end: true }                 the NAR is whole and verified: finish
 *   to the main   = { consumed: n, spent }        n more bytes parsed and written (flow control);
 *                                                 spent: the memory of the chunks read past (transferred
 *                                                 back, for the calling thread to fill again)
 *                 | { done: true }                the tree is at temp
 *                 | { error: message }            the NAR is malformed or a write failed;
 *                                                 nothing is left at temp
 * The calling thread ends the thread (terminate) when the download or its checks fail,
 * and before it removes the temporary directory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { narRestore } from '../nar/restore.js';

export interface RestoreJob {
  kind: 'slime-restore';
  temp: string;
}

export type ToRestore = { chunks: ArrayBuffer[] } | { end: true };
export type FromRestore = { consumed: number; spent: ArrayBuffer[] } | { done: true } | { error: string };

/** The thread says what it has consumed once this much more is parsed and written. */
const ACK_BYTES = 1 << 20;

const job = workerData as RestoreJob | undefined;
if (parentPort && job?.kind === 'slime-restore') {
  const port = parentPort;
  const queue: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToRestore) => {
    if ('chunks' in m) for (const c of m.chunks) queue.push(Buffer.from(c));
    else ended = true;
    wake?.();
  });
  let unacked = 0;
  let spent: ArrayBuffer[] = [];
  const source = async function* (): AsyncGenerator<Buffer> {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        // The parser asks for the next chunk: it holds no slice of this one any more (NarReader's contract).
        unacked += next.length;
        spent.push(next.buffer as ArrayBuffer);
        if (unacked >= ACK_BYTES) {
          port.postMessage({ consumed: unacked, spent } satisfies FromRestore, spent);
          unacked = 0;
          spent = [];
        }
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  };
  narRestore(source(), job.temp, { canonical: true }).then(
    () => port.postMessage({ done: true } satisfies FromRestore),
    (e: unknown) => port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies FromRestore),
  );
}
