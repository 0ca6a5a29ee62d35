/**
 * Without --keep-going, a failure stops the run: what the run stops is `cancelled`
 * (not failed, not interrupted), what was already valid is `cached` (not skipped),
 * and the exit code is the first failure's, whatever else ends after it. The builders
 * signal each other through files in the test's directory, so they run unsandboxed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { slime, tempDir, writeModule } from './support/cli.js';

function graph(dir: string): string {
  const mark = (name: string) => JSON.stringify(path.join(dir, name));
  return writeModule(
    dir,
    'cancel.ts',
    `
const sh = (name: string, script: string, extra: object = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-c', script], tools: ['sleep'], ...extra });
// Already valid when the failing run starts: it must be reported cached.
export const ready = sh('ready', 'echo ready > $out');
// Running when the failure happens: it must be reported cancelled. It says when slime stopped it.
const slow = sh('slow', "trap 'echo > " + ${mark('slow-stopped')} + "; exit 143' TERM; echo > " + ${mark('slow-started')} + '; sleep 600; echo > $out');
// Fails once slow runs (a condition, not a clock), after telling 'late' it is about to.
const fails = sh('fails', 'while [ ! -e ' + ${mark('slow-started')} + ' ]; do sleep 0.05; done; echo > ' + ${mark('failing')} + '; exit 3');
// Ignores the cancellation and ends with a wrong fixed-output hash once slime has
// stopped the run (slow says so): it is cancelled, and its code (102) never wins.
const late = sh('late', "trap '' TERM; while [ ! -e " + ${mark('slow-stopped')} + " ]; do sleep 0.05; done; echo wrong > $out",
  { outputHash: { hash: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', mode: 'flat' } });
export const targets = [target('ready', 'valid beforehand', [ready]), target('t', 'one failure', [fails, slow, late, ready])];`,
  );
}

const eventsOf = (stderr: string): SlimeEvent[] =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SlimeEvent);

describe('cancelled state', () => {
  it('reports cancelled builds as cancelled, valid ones as cached, and exits with the first failure, every time', async () => {
    const dir = tempDir();
    const file = graph(dir);
    const store = path.join(dir, 'store');
    const first = await slime(['realize', 'ready', '-f', file, '--store', store, '--no-sandbox'], { cwd: dir });
    expect(first.code).toBe(0);
    for (let i = 0; i < 3; i++) {
      for (const m of ['slow-started', 'slow-stopped', 'failing']) fs.rmSync(path.join(dir, m), { force: true });
      const r = await slime(['realize', 't', '-f', file, '--store', store, '--no-sandbox', '-j', '3', '--log-format', 'json', '--no-link'], { cwd: dir });
      const events = eventsOf(r.stderr);
      const byName = (type: string) =>
        events.filter((e) => e.type === type).map((e) => ('drvPath' in e ? path.basename(e.drvPath).replace(/^[0-9a-z]{32}-/, '').replace(/\.drv$/, '') : ''));
      expect(byName('failed')).toEqual(['fails']);
      expect(byName('cancelled').sort()).toEqual(['late', 'slow']);
      expect(byName('cached')).toEqual(['ready']);
      expect(byName('skipped')).toEqual([]);
      const cancelled = events.find((e) => e.type === 'cancelled') as Extract<SlimeEvent, { type: 'cancelled' }>;
      expect(cancelled.becauseOf).toMatch(/-fails\.drv$/);
      const finished = events.find((e) => e.type === 'finished') as Extract<SlimeEvent, { type: 'finished' }>;
      expect(finished).toMatchObject({ failed: 1, cancelled: 2, cached: 1, skipped: 0 });
      expect(r.code).toBe(100);
    }
  });

  it('says cancelled in the plain log, never "interrupted", and hints at --keep-going', async () => {
    const dir = tempDir();
    const file = graph(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 't', '-f', file, '--store', store, '--no-sandbox', '-j', '3', '--log-format', 'plain', '--no-link'], { cwd: dir });
    expect(r.code).toBe(100);
    expect(r.stderr).toContain('[fails] FAILED (builder exited with code 3)');
    expect(r.stderr).toContain('[slow] cancelled: fails failed');
    expect(r.stderr).not.toMatch(/interrupted|SIGINT/);
    expect(r.stderr).toMatch(/note: 3 derivations were cancelled when fails failed; `slime realize --keep-going` \(-k\)/);
    expect(r.stderr).toMatch(/slime: 0 built, 0 cached, 0 substituted, 1 failed, 0 skipped, 3 cancelled in /);
  });
});
