/**
 * Cross-process locks on store files, held by a `flock(1)` child process.
 *
 * Node has no flock(2); a child that holds the lock and exits when our stdin pipe
 * closes gives the kernel's guarantees: the lock is released the moment this process
 * dies, even by SIGKILL, so there is no stale-lock detection to get wrong. The child
 * runs in its own process group so that Ctrl-C on the terminal does not release a
 * lock while slime is still cleaning up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  shared?: boolean;
  /** Called once if the lock is not granted at once (another process holds it). */
  onWait?: () => void;
  signal?: AbortSignal;
}

const GRANTED = 'slime-lock-granted';
const WAIT_NOTICE_MS = 150;

export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Lock> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const child = spawn(
    'flock',
    [opts.shared ? '-s' : '-x', '-o', file, 'sh', '-c', `echo ${GRANTED}; exec cat >/dev/null`],
    { stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );
  const waitNotice = setTimeout(() => opts.onWait?.(), WAIT_NOTICE_MS);
  try {
    await granted(child, file, opts.signal);
  } finally {
    clearTimeout(waitNotice);
  }
  return { release: () => releaseLock(child) };
}

function granted(child: ChildProcess, file: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onAbort = () => {
      child.kill('SIGKILL');
      reject(Object.assign(new Error(`waiting for lock ${file} was aborted`), { name: 'AbortError' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(GRANTED)) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(new SlimeError(`cannot lock ${file}: ${e.message}; slime needs flock(1) from util-linux (run the setup command)`)),
    );
    child.on('exit', (code) => {
      if (!out.includes(GRANTED)) {
        reject(new SlimeError(`cannot lock ${file}: flock exited with ${code}: ${err.trim()}`));
      }
    });
  });
}

function releaseLock(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.stdin!.end();
  });
}

/** Runs `fn` while holding the lock. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
