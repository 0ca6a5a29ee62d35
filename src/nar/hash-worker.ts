/**
 * The hashing thread's code (see ./hash-thread.ts for its messages), and its start
 * ahead of the command that will use it.
 *
 * A thread takes 30-50 ms to start, and while it starts the walk can only read ahead:
 * `slime hash path` of the CPython quick output began hashing some 50 ms after the walk
 * began. The launcher (src/cli/launch.ts) knows the command before it loads the CLI's
 * bundle (15-25 ms), so for `slime hash path` it starts the thread first
 * (startHashWorker) and the bundle's hashing takes that thread (takeStartedHashWorker).
 * Both sides are in one process and one realm; the thread is handed over in a global
 * slot. Unused (a path too small to need it, a usage error), it keeps no process alive.
 */
import type { Worker } from 'node:worker_threads';

export const HASH_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.algo !== undefined) hashes.set(m.id, createHash(m.algo));
  else if (m.buf !== undefined) {
    hashes.get(m.id)?.update(new Uint8Array(m.buf, 0, m.len));
    parentPort.postMessage({ id: m.id, buf: m.buf }, [m.buf]);
  } else if (m.end) {
    const d = hashes.get(m.id).digest();
    hashes.delete(m.id);
    const out = d.buffer.slice(d.byteOffset, d.byteOffset + d.length);
    parentPort.postMessage({ id: m.id, digest: out }, [out]);
  } else if (m.drop) hashes.delete(m.id);
});
`;

const SLOT = Symbol.for('slime.started-hash-worker');
type Slot = { [SLOT]?: Worker };

export function startHashWorker(): void {
  const { Worker: WorkerThread } = process.getBuiltinModule('node:worker_threads');
  const worker = new WorkerThread(HASH_WORKER_SOURCE, { eval: true });
  worker.unref();
  // A thread that failed to start is not handed over: the hashing starts its own.
  worker.once('error', () => {
    if ((globalThis as Slot)[SLOT] === worker) delete (globalThis as Slot)[SLOT];
  });
  (globalThis as Slot)[SLOT] = worker;
}

/** The thread startHashWorker started, once; undefined when there is none. */
export function takeStartedHashWorker(): Worker | undefined {
  const worker = (globalThis as Slot)[SLOT];
  delete (globalThis as Slot)[SLOT];
  return worker;
}
