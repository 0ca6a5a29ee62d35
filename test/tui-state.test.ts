import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { appendLine, EMPTY_TAIL, lastLines, MAX_LINE_CHARS } from '../src/run/log-tail.js';
import { counts, eta, initialState, nameFromDrvPath, reduce, reduceAll, treeRows, type TuiState } from '../src/run/state.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';
import { activityOf, formatBytes, formatDuration, formatPhase } from '../src/run/format.js';
import { describeFailure } from '../src/run/failure.js';

const T0 = 1_000_000;

function fold(events: SlimeEvent[], state: TuiState = initialState(T0)): TuiState {
  return events.reduce(reduce, state);
}

describe('reduce', () => {
  it('plans every derivation, marking already-valid ones cached', () => {
    const s = fold([plannedEvent(T0)]);
    expect(s.order).toHaveLength(7);
    expect(s.derivations[p('python3.11')]!.status).toBe('cached');
    expect(s.derivations[p('isolate')]!.status).toBe('planned');
    expect(s.derivations[p('isolate')]!.recognizer).toBe('cargo');
    expect(counts(s)).toMatchObject({ total: 7, finished: 1, cached: 1, planned: 6, active: 0 });
  });

  it('walks a derivation through lock-wait, start, phases, logs and success', () => {
    const d = p('cpython-3.11.2-quick');
    const s = fold([
      plannedEvent(T0),
      { type: 'lock-wait', time: T0 + 10, drvPath: d, holder: 'pid 4242' },
      { type: 'started', time: T0 + 500, drvPath: d, action: 'build', logPath: '/logs/q.log' },
      { type: 'phase', time: T0 + 600, drvPath: d, phase: 'profile', done: 12, total: 44 },
      { type: 'log', time: T0 + 700, drvPath: d, stream: 'stdout', line: 'hello' },
    ]);
    const running = s.derivations[d]!;
    expect(running.status).toBe('building');
    expect(running.startedAt).toBe(T0 + 500);
    expect(running.logPath).toBe('/logs/q.log');
    expect(activityOf(running)).toBe('profile 12/44');
    expect(lastLines(running.log, 5).map((l) => l.text)).toEqual(['hello']);

    const done = reduce(s, { type: 'built', time: T0 + 9_500, drvPath: d, outputs: {}, durationMs: 9_000 });
    expect(done.derivations[d]!.status).toBe('built');
    expect(done.derivations[d]!.endedAt).toBe(T0 + 9_500);
    expect(counts(done)).toMatchObject({ built: 1, active: 0 });
  });

  it('finishes a derivation nothing needed as not-needed, counted apart, with no time of its own', () => {
    const d = p('cpython-3.11.2-quick');
    const s = fold([
      plannedEvent(T0),
      { type: 'not-needed', time: T0 + 50, drvPath: d },
      { type: 'finished', time: T0 + 60, built: 0, cached: 1, substituted: 0, failed: 0, skipped: 0, notNeeded: 1, wallMs: 60, results: {} },
    ]);
    expect(s.derivations[d]!.status).toBe('not-needed');
    expect(s.derivations[d]!.startedAt).toBeUndefined();
    expect(counts(s)).toMatchObject({ notNeeded: 1, cached: 1, active: 0 });
    expect(s.finished).toMatchObject({ notNeeded: 1 });
  });

  it('never mutates the state it was given', () => {
    const before = fold([plannedEvent(T0)]);
    const snapshot = JSON.stringify(before);
    const d = p('isolate');
    reduceAll(before, [
      { type: 'started', time: T0 + 1, drvPath: d, action: 'build' },
      { type: 'log', time: T0 + 2, drvPath: d, stream: 'stderr', line: 'x' },
      { type: 'failed', time: T0 + 3, drvPath: d, reason: { kind: 'exit', exitCode: 2, signal: null } },
      { type: 'finished', time: T0 + 4, built: 0, cached: 1, substituted: 0, failed: 1, skipped: 5, wallMs: 4 },
    ]);
    expect(JSON.stringify(before)).toBe(snapshot);
  });

  it('reduceAll over a batch equals reducing one event at a time', () => {
    const d = p('isolate');
    const q = p('cpython-3.11.2-quick');
    const line = (drvPath: string, i: number): SlimeEvent => ({ type: 'log', time: T0 + 2 + i, drvPath, stream: 'stdout', line: `${drvPath.slice(-12)} ${i}` });
    const events: SlimeEvent[] = [
      plannedEvent(T0),
      { type: 'started', time: T0 + 1, drvPath: d, action: 'build' },
      ...Array.from({ length: 50 }, (_, i) => line(d, i)),
      { type: 'started', time: T0 + 1, drvPath: q, action: 'build' },
      // Interleaved runs of lines from two builds, and other events between them.
      ...Array.from({ length: 40 }, (_, i) => line(i % 7 < 4 ? d : q, 50 + i)),
      // A cache warning is a line of its derivation's log, between its other lines.
      { type: 'cache-warning', time: T0 + 59, cache: 'https://cache.example', reason: 'HTTP 500', drvPath: q },
      line(q, 89.5),
      { type: 'phase', time: T0 + 60, drvPath: d, phase: 'compile', done: 37, total: 58 },
      ...Array.from({ length: 20 }, (_, i) => line(d, 90 + i)),
    ];
    for (const capacity of [8, 1000]) {
      const start = initialState(T0, { logCapacity: capacity });
      const batched = reduceAll(start, events);
      const single = fold(events, start);
      for (const drvPath of [d, q]) {
        expect(lastLines(batched.derivations[drvPath]!.log, 1000)).toEqual(lastLines(single.derivations[drvPath]!.log, 1000));
        expect(batched.derivations[drvPath]!.log.total).toBe(single.derivations[drvPath]!.log.total);
        expect({ ...batched.derivations[drvPath], log: null }).toEqual({ ...single.derivations[drvPath], log: null });
      }
      // Split anywhere, the same: a batch left open across frames must not matter.
      const split = reduceAll(reduceAll(start, events.slice(0, 77)), events.slice(77));
      expect(lastLines(split.derivations[d]!.log, 1000)).toEqual(lastLines(single.derivations[d]!.log, 1000));
    }
    expect(activityOf(reduceAll(initialState(T0), events).derivations[d]!)).toBe('compile 37/58 crates');
  });

  it('records failures with reason, phase and log path, and skips dependants', () => {
    const d = p('cpython-3.11.2-pgo');
    const s = fold([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: d, action: 'build', logPath: '/logs/pgo.log' },
      { type: 'phase', time: T0, drvPath: d, phase: 'make' },
      { type: 'failed', time: T0 + 5, drvPath: d, reason: { kind: 'exit', exitCode: 2, signal: null } },
      { type: 'skipped', time: T0 + 5, drvPath: p('isolate'), becauseOf: d },
    ]);
    expect(s.derivations[d]!.failure).toEqual({
      reason: { kind: 'exit', exitCode: 2, signal: null },
      phase: 'make',
      logPath: '/logs/pgo.log',
      keptBuildDir: undefined,
    });
    expect(s.derivations[p('isolate')]!.skippedBecauseOf).toBe(d);
  });

  it('shows nothing as running once the run has finished', () => {
    const d = p('isolate');
    const s = fold([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: d, action: 'build' },
      { type: 'lock-wait', time: T0, drvPath: p('cargo-vendor') },
      { type: 'finished', time: T0 + 10, built: 0, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 10 },
    ]);
    expect(counts(s)).toMatchObject({ active: 0, planned: 0, finished: 7 });
    expect(s.finished?.wallMs).toBe(10);
  });

  it('keeps downloads and substitutions apart', () => {
    const f = p('Python-3.11.2.tar.xz');
    const s = fold([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: f, action: 'fetch' },
      { type: 'progress', time: T0 + 1, drvPath: f, direction: 'download', bytes: 12.3 * 2 ** 20, total: 25.1 * 2 ** 20, bytesPerSecond: 4.2 * 2 ** 20 },
    ]);
    expect(s.derivations[f]!.status).toBe('fetching');
    expect(activityOf(s.derivations[f]!)).toBe('↓ 12.3 MiB/25.1 MiB 4.2 MiB/s, ETA 3.0s');
    const sub = reduce(s, { type: 'substituted', time: T0 + 3000, drvPath: f, outputs: {}, from: 'cache', durationMs: 2000 });
    expect(sub.derivations[f]!.status).toBe('substituted');
    expect(counts(sub).substituted).toBe(1);
  });

  it('starts a new attempt clean: no failure, phase or transfer of the last one', () => {
    const d = p('isolate');
    const s = fold([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: d, action: 'substitute' },
      { type: 'progress', time: T0, drvPath: d, direction: 'download', bytes: 10, bytesPerSecond: 10 },
      { type: 'failed', time: T0 + 1, drvPath: d, reason: { kind: 'fetch', tried: [{ mirror: 'cache', error: '404' }] } },
      { type: 'started', time: T0 + 2, drvPath: d, action: 'build' },
    ]);
    expect(s.derivations[d]).toMatchObject({ status: 'building', startedAt: T0 + 2, failure: undefined, download: undefined });
    expect(activityOf(s.derivations[d]!)).toBeUndefined();
  });

  it('names derivations it was never told about from their path', () => {
    const s = reduce(initialState(T0), { type: 'started', time: T0, drvPath: p('stray-thing'), action: 'build' });
    expect(s.derivations[p('stray-thing')]!.name).toBe('stray-thing');
    expect(nameFromDrvPath('/x/short-name.drv')).toBe('short-name');
  });
});

describe('eta', () => {
  it('sums expected time of unfinished derivations, less what running ones already spent', () => {
    const q = p('cpython-3.11.2-quick');
    const s = fold([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: p('Python-3.11.2.tar.xz'), action: 'fetch' },
      { type: 'built', time: T0 + 6_000, drvPath: p('Python-3.11.2.tar.xz'), outputs: {}, durationMs: 6_000 },
      { type: 'started', time: T0 + 6_000, drvPath: q, action: 'build' },
    ]);
    // cargo-vendor 20s + quick 95s + pgo 420s + isolate 140s + verify 30s, quick 30s in.
    expect(eta(s, T0 + 36_000)).toEqual({ ms: 20_000 + 65_000 + 420_000 + 140_000 + 30_000, unknown: 0 });
    // An overrunning build contributes nothing, rather than a negative.
    expect(eta(s, T0 + 6_000 + 200_000)!.ms).toBe(20_000 + 420_000 + 140_000 + 30_000);
  });

  it('counts unpredictable derivations and is gone when the run finished', () => {
    const s = fold([plannedEvent(T0, 2)]);
    expect(eta(s, T0)!.unknown).toBe(0);
    const stray = reduce(s, { type: 'started', time: T0, drvPath: p('unplanned'), action: 'build' });
    expect(eta(stray, T0)!.unknown).toBe(1);
    const done = reduce(stray, { type: 'finished', time: T0, built: 0, cached: 0, substituted: 0, failed: 0, skipped: 0, wallMs: 1 });
    expect(eta(done, T0)).toBeUndefined();
  });
});

describe('treeRows', () => {
  it('roots the tree at the target and draws each derivation once', () => {
    const s = fold([plannedEvent(T0)]);
    const rows = treeRows(s).map((r) => `${'  '.repeat(r.depth)}${s.derivations[r.drvPath]!.name}`);
    expect(rows).toEqual([
      'isolate-verify',
      '  isolate',
      '    cpython-3.11.2-pgo',
      '      Python-3.11.2.tar.xz',
      '    cargo-vendor',
      '  python3.11',
      '  cpython-3.11.2-quick',
    ]);
  });

  it('walks a chain as deep as it is long, each row linked to the one it hangs under', () => {
    // d[i] needs d[i-1]: 100,000 levels, beyond what a recursive walk's stack reaches.
    const n = 100_000;
    const drv = (i: number) => `/store/${String(i).padStart(32, 'a')}-d${i}.drv`;
    const derivations = Array.from({ length: n }, (_, i) => ({
      drvPath: drv(i), name: `d${i}`, outputs: {}, inputs: i > 0 ? [drv(i - 1)] : [], fixedOutput: false, valid: true,
    }));
    const s = fold([{ type: 'planned', time: T0, targets: [drv(n - 1)], derivations }]);
    const rows = treeRows(s);
    expect(rows).toHaveLength(n);
    expect(rows.map((r) => r.depth).slice(0, 3)).toEqual([0, 1, 2]);
    const deepest = rows.at(-1)!;
    expect([deepest.drvPath, deepest.depth, deepest.up?.drvPath]).toEqual([drv(0), n - 1, drv(1)]);
  });
});

describe('log tail', () => {
  it('keeps the newest lines and stays bounded however many arrive', () => {
    let tail = EMPTY_TAIL;
    for (let i = 0; i < 100_000; i++) tail = appendLine(tail, 'stdout', `line ${i}`, 50);
    expect(tail.length).toBeLessThan(100);
    expect(tail.total).toBe(100_000);
    const last = lastLines(tail, 50).map((l) => l.text);
    expect(last[0]).toBe('line 99950');
    expect(last[49]).toBe('line 99999');
    expect(lastLines(tail, 1000)).toHaveLength(50);
  });

  it('clips enormous lines', () => {
    const tail = appendLine(EMPTY_TAIL, 'stderr', 'x'.repeat(1_000_000), 10);
    expect(lastLines(tail, 1)[0]!.text.length).toBe(MAX_LINE_CHARS + 1);
  });
});

describe('format', () => {
  it('formats durations, sizes, phases and reasons', () => {
    expect([400, 9_849, 42_000, 192_000, 3_900_000].map(formatDuration)).toEqual(['0.4s', '9.8s', '42s', '3m12s', '1h05m']);
    expect([812, 1536, 12.3 * 2 ** 20].map(formatBytes)).toEqual(['812 B', '1.5 KiB', '12.3 MiB']);
    expect(formatPhase({ name: 'compare', done: 30, total: 55, passed: 30 }, 'sample-comparison')).toBe('compare 30/55 (30 ok)');
    expect(formatPhase({ name: 'make' })).toBe('make');
    expect(describeFailure({ kind: 'exit', exitCode: null, signal: 'SIGKILL' })).toBe('builder killed by SIGKILL');
    expect(describeFailure({ kind: 'timeout', timeoutMs: 1_800_000 })).toBe('timed out after 30m00s');
  });
});
