/**
 * The builders' helper (src/builder/spawner.ts) reports a builder's exit even when the
 * SIGCHLD that should wake it is lost: Perl runs its signal handler between ops, and a
 * signal landing just before select(2) woke nothing, so a realize of the
 * 1000-derivation graph once waited for ever on a reaped-never builder. Here the helper
 * runs with SLIME_SPAWNER_TEST_LOSE_WAKEUPS=1 (its SIGCHLD handler does nothing), and
 * each builder closes its output before it exits: the output's end wakes the helper
 * while the builder is still running, and nothing wakes it after the exit but its
 * select's timeout.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnProcess } from '../src/builder/spawner.js';
import { tempDir } from './support/cli.js';

// Read by the helper, which the first spawnProcess of this file's process starts.
process.env.SLIME_SPAWNER_TEST_LOSE_WAKEUPS = '1';
const dir = tempDir('slime-spawner-wakeup-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('spawnProcess without SIGCHLD wake-ups', () => {
  it('reports each exit all the same, one builder after another', async () => {
    for (const code of [0, 3, 7]) {
      const p = await spawnProcess({ argv: ['/bin/sh', '-c', `exec >/dev/null 2>&1; sleep 0.2; exit ${code}`], cwd: dir, env: {} });
      p.stdout.resume();
      p.stderr.resume();
      const status = await Promise.race([
        p.exited,
        new Promise<'unreported'>((resolve) => setTimeout(() => resolve('unreported'), 10_000).unref()),
      ]);
      expect(status, `exit ${code} after 10 s`).toEqual({ code, signal: null });
    }
  }, 60_000);
});
