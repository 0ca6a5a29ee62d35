/**
 * Store locks (src/store/lock.ts) are real flock(2) locks: another process (here
 * util-linux's flock(1)) sees them, shared ones coexist, an exclusive one waits, and
 * a waiter is told once that it waits.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../src/store/lock.js';
import { tempDir } from './support/cli.js';

/** Whether flock(1) in another process gets the lock at once. */
const othersCanLock = (file: string, mode: '-s' | '-x') => spawnSync('flock', ['-n', mode, file, 'true']).status === 0;

describe('store locks', () => {
  it('are flock locks that other processes see, until released', async () => {
    const file = path.join(tempDir(), 'locks', 'a.lock');
    const lock = await acquireLock(file);
    expect(othersCanLock(file, '-x')).toBe(false);
    expect(othersCanLock(file, '-s')).toBe(false);
    await lock.release();
    expect(othersCanLock(file, '-x')).toBe(true);
  });

  it('shared locks coexist with other shared locks but not with an exclusive one', async () => {
    const file = path.join(tempDir(), 'b.lock');
    const a = await acquireLock(file, { shared: true });
    const b = await acquireLock(file, { shared: true });
    expect(othersCanLock(file, '-s')).toBe(true);
    expect(othersCanLock(file, '-x')).toBe(false);
    let waited = 0;
    let granted = false;
    const exclusive = acquireLock(file, { onWait: () => waited++ }).then((l) => {
      granted = true;
      return l;
    });
    // Wait on the condition, not the clock: the waiter says it waits.
    await expect.poll(() => waited, { timeout: 30_000 }).toBe(1);
    expect(granted).toBe(false);
    await a.release();
    await b.release();
    const x = await exclusive;
    expect(waited).toBe(1);
    expect(othersCanLock(file, '-s')).toBe(false);
    await x.release();
  });

  it('an aborted wait gives up with an AbortError', async () => {
    const file = path.join(tempDir(), 'c.lock');
    const held = await acquireLock(file);
    const abort = new AbortController();
    const waiting = acquireLock(file, { signal: abort.signal, onWait: () => abort.abort() });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await held.release();
  });
});
