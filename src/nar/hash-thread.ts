/**
 * Hashing beside the walk. A NAR of more than a few blocks is hashed on a worker
 * thread while the main thread reads the next blocks (and scans them for references),
 * so a large tree takes about as long as the longer of reading and hashing, not their
 * sum: on this machine both run at about 1.7 GB/s. Small NARs (most build outputs)
 * never start the thread. One thread per process serves every hash at once (each has
 * an id); it keeps no process alive while idle.
 *
 * Messages on the worker's port (a block's ArrayBuffer is transferred, never copied):
 *   to the worker   = { id, algo }          begin hash id
 *                   | { id, buf, len }      update hash id with the first len bytes of buf
 *                   | { id, end: true }     finish hash id: answered with its digest
 *                   | { id, drop: true }    forget hash id (the walk failed)
 *   to the main     = { id, buf }           buf is hashed: the walk may fill it again
 *                   | { id, digest }        the digest (ArrayBuffer) asked for by end
 */
import type { Worker } from 'node:worker_threads';
import { HASH_WORKER_SOURCE, takeStartedHashWorker } from './hash-worker.js';

interface Session {
  returned: (buf: Buffer) => void;
  digest?: (d: Buffer) => void;
}

class HashThread {
  private readonly worker: Worker;
  private readonly sessions = new Map<number, Session>();
  private failure: Error | undefined;

  constructor(private readonly spare: Buffer[]) {
    // Loaded with the first thread: a command that hashes nothing big never loads it.
    const { Worker: WorkerThread } = process.getBuiltinModule('node:worker_threads');
    this.worker = takeStartedHashWorker() ?? new WorkerThread(HASH_WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; buf?: ArrayBuffer; digest?: ArrayBuffer }) => {
      const s = this.sessions.get(m.id);
      if (m.buf !== undefined) {
        const buf = Buffer.from(m.buf);
        if (s) s.returned(buf);
        else this.spare.push(buf);
      } else if (m.digest !== undefined) {
        this.end(m.id);
        s?.digest?.(Buffer.from(m.digest));
      }
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`the hashing thread exited with ${code}`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (thread === this) thread = undefined;
    for (const [id, s] of this.sessions) {
      this.end(id);
      s.digest?.(Buffer.alloc(0));
    }
  }

  begin(algo: string, returned: (buf: Buffer) => void): RemoteHash {
    if (this.failure) throw this.failure;
    const id = nextId++;
    const session: Session = { returned };
    if (this.sessions.size === 0) this.worker.ref();
    this.sessions.set(id, session);
    this.worker.postMessage({ id, algo });
    return {
      update: (block: Buffer) => {
        if (this.failure) throw this.failure;
        const buf = block.buffer as ArrayBuffer;
        this.worker.postMessage({ id, buf, len: block.length }, [buf]);
      },
      digest: () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          session.digest = (d) => (this.failure ? reject(this.failure) : resolve(d));
          this.worker.postMessage({ id, end: true });
        }),
      drop: () => {
        this.end(id);
        if (!this.failure) this.worker.postMessage({ id, drop: true });
      },
    };
  }

  private end(id: number): void {
    if (!this.sessions.delete(id)) return;
    if (this.sessions.size === 0) this.worker.unref();
  }
}

export interface RemoteHash {
  /** Hands the block's whole ArrayBuffer to the thread: the block is unusable until it comes back. */
  update(block: Buffer): void;
  digest(): Promise<Buffer>;
  drop(): void;
}

let thread: HashThread | undefined;
let nextId = 1;

/** A hash computed on the hashing thread; `returned` gets each block's buffer back once it is hashed. */
export function remoteHash(algo: string, spare: Buffer[], returned: (buf: Buffer) => void): RemoteHash {
  thread ??= new HashThread(spare);
  return thread.begin(algo, returned);
}
