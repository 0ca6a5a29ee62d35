/**
 * A realize with nothing to build starts no process, takes no lock and writes nothing
 * (issue 9): its plan comes from the evaluation cache, validity from one read of the
 * store's metadata (or its validity memo, src/store/validity-memo.ts, which the first
 * such run keeps), and instead of the store lock it checks that no gc ran meanwhile.
 * Run with a PATH where no program can be found, it still succeeds; the store is left
 * byte for byte and stamp for stamp as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { slime, tempDir, writeModule } from './support/cli.js';
import { settleDatabase } from './support/store.js';

/** The store database's gc state (src/store/db.ts: GcState). */
function gcState(store: string, set?: { pid: number }): { generation: number; pid: number | null } {
  const db = new Database(path.join(store, '.slime', 'db.sqlite'));
  try {
    if (set) db.prepare('UPDATE GcState SET pid = ? WHERE id = 1').run(set.pid);
    return db.prepare('SELECT generation, pid FROM GcState WHERE id = 1').get() as { generation: number; pid: number | null };
  } finally {
    db.close();
  }
}

/** Every entry under `dir` with its mtime and size, to see that nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d)) {
      const p = path.join(d, e);
      const st = fs.lstatSync(p);
      // SQLite creates its -wal/-shm files next to the database while it is open and
      // removes them on close: that touches the state directory's mtime, nothing else.
      const mtime = e === '.slime' ? 'dir' : st.mtimeMs;
      out.push(`${p} ${mtime} ${st.size} ${st.ino}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('a no-op realize', { timeout: 300_000 }, () => {
  it('starts no process, takes no lock and writes nothing; with a gc possibly running it takes the lock', async () => {
    const dir = tempDir();
    const file = writeModule(
      dir,
      'graph.ts',
      `const a = derivation({ name: 'a', builder: '/bin/sh', args: ['-c', 'echo a > $out'] });
const b = derivation({ name: 'b', builder: '/bin/sh', args: ['-c', 'echo $a > $out'], env: { a } });
const c = derivation({ name: 'c', builder: '/bin/sh', args: ['-c', 'echo $a $b > $out'], env: { a, b } });
export const targets = [target('c', 'three builds', [c])];`,
    );
    const store = path.join(dir, 'store');
    const args = ['realize', 'c', '-f', file, '--store', store];
    const first = await slime(args, { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('3 built');
    const out = first.stdout.trim();
    // The database as if written a minute ago: the first of the runs below keeps its
    // validity memo (one that comes less than a second after a write keeps none), so that
    // the run measured neither writes one nor depends on how long these took.
    settleDatabase(store);
    // Until the evaluation cache holds the plan (an evaluation racing a just-written file is not kept).
    for (let i = 0; i < 5; i++) {
      const r = await slime(args, { cwd: dir, env: { SLIME_TRACE_EVAL_CACHE: '1' } });
      expect(r.code, r.stderr).toBe(0);
      if (r.stderr.includes('eval-cache: hit')) break;
    }
    const before = [...snapshot(store), ...snapshot(dir)];
    expect(fs.readdirSync(path.join(store, '.slime', 'validity'))).toHaveLength(1);

    const noop = await slime(args, { cwd: dir, env: { PATH: '/nonexistent', SLIME_TRACE_EVAL_CACHE: '1' } });
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stderr).toContain('eval-cache: hit');
    expect(noop.stderr).toContain('0 built, 3 cached');
    expect(noop.stdout.trim()).toBe(out);
    expect([...snapshot(store), ...snapshot(dir)]).toEqual(before);

    // A gc that is running (or died running) makes the realize wait for the store lock,
    // which needs the lock helper: with no programs on PATH that fails, naming perl.
    gcState(store, { pid: process.pid });
    const locked = await slime(args, { cwd: dir, env: { PATH: '/nonexistent' } });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/lock helper \(perl\)/);
    gcState(store, { pid: null as unknown as number });
    const normal = await slime(args, { cwd: dir });
    expect(normal.code, normal.stderr).toBe(0);
    expect(normal.stdout.trim()).toBe(out);
  });

  it('gc counts its collections in the gc generation a no-op realize checks; afterwards a no-op is again process-free', async () => {
    const dir = tempDir();
    const file = writeModule(
      dir,
      'one.ts',
      `const a = derivation({ name: 'a', builder: '/bin/sh', args: ['-c', 'echo a > $out'] });
export const targets = [target('a', 'one build', [a])];`,
    );
    const store = path.join(dir, 'store');
    const args = ['realize', 'a', '-f', file, '--store', store];
    expect((await slime(args, { cwd: dir })).code).toBe(0);
    const start = gcState(store).generation;
    const gc = await slime(['gc', '--store', store], { cwd: dir });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gcState(store)).toEqual({ generation: start + 1, pid: null });
    expect((await slime(['gc', '--store', store], { cwd: dir })).code).toBe(0);
    expect(gcState(store).generation).toBe(start + 2);
    // The result link kept the output (and, keep-derivations, its .drv) alive: a no-op needs no process.
    const again = await slime(args, { cwd: dir, env: { PATH: '/nonexistent' } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('0 built, 1 cached');
  });

  it("reports each derivation cached once, dependencies first, and the roots' outputs as results", async () => {
    const dir = tempDir();
    // Two roots sharing an input, in a diamond: d needs b and c, both need a; e needs a.
    const file = writeModule(
      dir,
      'diamond.ts',
      `const sh = (name: string, env: Record<string, unknown> = {}) => derivation({ name, builder: '/bin/sh', args: ['-c', 'echo ' + name + ' > $out'], env: env as never });
const a = sh('a');
const b = sh('b', { a });
const c = sh('c', { a });
const d = sh('d', { b, c });
const e = sh('e', { a });
export const targets = [target('both', 'two roots', [d, e])];`,
    );
    const store = path.join(dir, 'store');
    const args = ['realize', 'both', '-f', file, '--store', store, '--log-format', 'json', '--no-link'];
    const first = await slime(args, { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const noop = await slime(args, { cwd: dir });
    expect(noop.code, noop.stderr).toBe(0);
    const events = noop.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; drvPath?: string; outputs?: Record<string, string>; derivations?: { drvPath: string; name: string; inputs: string[]; valid: boolean }[]; results?: Record<string, Record<string, string>>; cached?: number; built?: number });
    expect(events.map((e) => e.type).filter((t) => t !== 'cached')).toEqual(['planned', 'finished']);
    const planned = events.find((e) => e.type === 'planned')!.derivations!;
    expect(planned.every((d) => d.valid)).toBe(true);
    const cached = events.filter((e) => e.type === 'cached').map((e) => e.drvPath!);
    expect([...cached].sort()).toEqual(planned.map((d) => d.drvPath).sort());
    // Every input is reported before what depends on it, as a build run would order them.
    for (const d of planned) for (const input of d.inputs) expect(cached.indexOf(input)).toBeLessThan(cached.indexOf(d.drvPath));
    const finished = events.find((e) => e.type === 'finished')!;
    expect(finished).toMatchObject({ built: 0, cached: 5 });
    const byName = new Map(planned.map((d) => [d.name, d.drvPath]));
    expect(Object.keys(finished.results!).sort()).toEqual([byName.get('d'), byName.get('e')].sort());
    // The outputs printed are the roots', as the build printed them.
    expect(noop.stdout.trim().split('\n').sort()).toEqual(first.stdout.trim().split('\n').sort());
    for (const [drvPath, outputs] of Object.entries(finished.results!)) {
      expect(events.find((e) => e.type === 'cached' && e.drvPath === drvPath)!.outputs).toEqual(outputs);
    }
  });

  it('says with SLIME_TRACE_PHASES=1 how long each phase took, the build and the no-op alike, and nothing without it', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'one.ts', `export const targets = [target('one', 'one build', [derivation({ name: 'one', builder: '/bin/sh', args: ['-c', 'echo 1 > $out'] })])];`);
    const args = ['realize', 'one', '-f', file, '--store', path.join(dir, 'store'), '--no-link'];
    const line = /^phases: start ([\d.]+) ms, plan ([\d.]+) ms, validity ([\d.]+) ms, realize ([\d.]+) ms, end ([\d.]+) ms; ([\d.]+) ms in all$/m;
    for (const expected of ['1 built', '0 built']) {
      const r = await slime(args, { cwd: dir, env: { SLIME_TRACE_PHASES: '1' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(expected);
      const m = line.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const [start, plan, validity, realize, end, total] = m!.slice(1).map(Number);
      // Each phase from the end of the one before: they add up to the whole (each rounded to 0.1 ms).
      expect(Math.abs(start + plan + validity + realize + end - total)).toBeLessThanOrEqual(0.3);
      expect(start).toBeGreaterThan(0);
    }
    const quiet = await slime(args, { cwd: dir });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('phases:');
  });
});
