/**
 * The recent runs of `slime run` in the `slime tui` app (the `r` key), rendered with
 * ink-testing-library over a stand-in backend: the list (newest first, tier, wall
 * time, exit status), the picked run's reasons in the router's words, a Light run over
 * its budget, a run recorded while the screen is open, and which keys work there.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from './support/until.js';
import { App } from '../tui/app/App.js';
import { recentKey, targetsHelp, targetsKey } from '../tui/app/app-state.js';
import type { Backend, RecentRun, TargetInfo } from '../tui/app/backend.js';
import { Runs } from '../tui/app/runs.js';
import { formatWall, formatWhen } from '../tui/app/RecentRunsScreen.js';

const KEY = { up: '\x1b[A', down: '\x1b[B', escape: '\x1b' };

const TARGETS: TargetInfo[] = [{ name: 'full-x86_64-quick', description: 'the CI build', state: 'realized', valid: 14, total: 14, comparesSamples: false }];

/** Times in the machine's zone, so the expected text is the same wherever the test runs. */
const at = (h: number, m: number, s: number) => new Date(2026, 11, 2, h, m, s).getTime();

const HASH_DEMO = 'a1b2c3d4e5f6a7b8'.padEnd(64, '0');
const HASH_ERR = 'ffee'.padEnd(64, '1');

const HOT_LOOP = { kind: 'hot-loop', effect: 'note', line: 3, detail: 'range() with a bound read at run time: the run-time profile decides' } as const;

/** A record of `slime run`: an auto run of demo.py that exited 0, with `fields` changed. */
const recorded = (fields: Partial<RecentRun>): RecentRun => ({
  time: at(1, 0, 0),
  script: 'demo.py',
  scriptHash: HASH_DEMO,
  tier: 'light',
  requested: 'auto',
  reasons: [],
  wallMs: 100,
  exitCode: 0,
  signal: null,
  budgetMs: 500,
  ...fields,
});

/** Newest first, as the backend gives them. */
const RUNS: RecentRun[] = [
  recorded({
    time: at(1, 22, 9),
    tier: 'full',
    reasons: [HOT_LOOP, { kind: 'profile', effect: 'prefers-full', detail: 'learned: an earlier Light run took 859 ms, over the 500 ms budget' }],
    wallMs: 295.4,
  }),
  recorded({ time: at(1, 22, 5), reasons: [HOT_LOOP], wallMs: 859.2 }),
  recorded({
    time: at(1, 20, 0),
    script: 'errors/exc.py',
    scriptHash: HASH_ERR,
    tier: 'full',
    reasons: [{ kind: 'exception-text', effect: 'needs-full', line: 7, detail: 'str(e) prints an exception message' }],
    wallMs: 41_500,
    exitCode: 3,
    budgetMs: 2000,
  }),
  recorded({
    time: at(1, 19, 0),
    script: '/elsewhere/killed.py',
    scriptHash: HASH_ERR,
    requested: 'light',
    reasons: [{ kind: 'policy', effect: 'note', detail: '--tier light was asked for: the reasons below are not applied' }],
    wallMs: 12.6,
    exitCode: null,
    signal: 'SIGKILL',
    budgetMs: 2000,
  }),
];

/** A backend with recorded runs; `record` adds one as another terminal's `slime run` would. */
function fakeBackend(initial: RecentRun[] = RUNS) {
  let runs = [...initial];
  const watchers = new Set<() => void>();
  let reads = 0;
  const backend: Backend = {
    moduleName: 'derivations/index.ts',
    storeDir: '/work/store',
    targets: async () => TARGETS,
    realize: async () => ({ failed: 0, interrupted: false }),
    rerunSampleComparison: async () => ({ failed: 0, interrupted: false }),
    logFile: (drvPath) => `/logs/${drvPath}.log`,
    recentRuns: async () => {
      reads++;
      return runs;
    },
    watchRecentRuns: (onChange) => {
      watchers.add(onChange);
      return () => watchers.delete(onChange);
    },
  };
  const record = (run: RecentRun) => {
    runs = [run, ...runs];
    for (const w of watchers) w();
  };
  return { backend, record, watchers, reads: () => reads };
}

function app(backend: Backend, height = 30) {
  const quit = vi.fn();
  const r = render(<App backend={backend} runs={new Runs(backend)} quit={quit} width={100} height={height} />);
  const frame = () => r.lastFrame() ?? '';
  const press = async (keys: string, expected: string | RegExp) => {
    r.stdin.write(keys);
    await until(() => expect(frame()).toMatch(expected));
  };
  return { ...r, frame, press, quit };
}

/** The list row of a run, as drawn. */
const row = (when: string, rest: string) => new RegExp(`^(?: › |   )[✔✖] ${when}  ${rest}`, 'm');

describe('recent runs of slime run in the slime tui app', () => {
  let unmount: (() => void) | undefined;
  afterEach(() => unmount?.());

  it('formats wall times in ms below ten seconds, and times in the local zone', () => {
    expect(formatWall(295.4)).toBe('295 ms');
    expect(formatWall(9_999)).toBe('9999 ms');
    expect(formatWall(41_500)).toBe('41s');
    expect(formatWhen(at(1, 2, 3))).toBe('2026-12-02 01:02:03');
  });

  it('offers r on the targets screen only when the backend reads run records', () => {
    const ctx = { running: false, hasRun: false, comparesSamples: false };
    expect(targetsKey('r', {} as never, ctx)).toBeUndefined();
    expect(targetsHelp(ctx)).not.toContain('r runs');
    expect(targetsKey('r', {} as never, { ...ctx, recentRuns: true })).toEqual({ type: 'show-recent' });
    expect(targetsHelp({ ...ctx, recentRuns: true })).toBe('↑↓/jk select · Enter realize · r runs · q quit');
    expect(recentKey('r', {} as never)).toEqual({ type: 'back' });
    expect(recentKey('q', {} as never)).toEqual({ type: 'quit' });
  });

  it('lists the runs newest first with tier, wall time and exit status, and the newest one in detail', async () => {
    const fake = fakeBackend();
    const a = app(fake.backend);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('r runs'));
    await a.press('r', /WHEN/);
    const frame = a.frame();
    expect(frame.split('\n')[0]).toBe('slime tui · runs of slime run, newest first · store /work/store');
    expect(frame).toMatch(/^ › ✔ 2026-12-02 01:22:09  full   295 ms  exit 0   demo.py$/m);
    expect(frame).toMatch(/^   ✔ 2026-12-02 01:22:05  light  859 ms  exit 0   demo.py$/m);
    expect(frame).toMatch(/^   ✖ 2026-12-02 01:20:00  full      41s  exit 3   errors\/exc.py$/m);
    expect(frame).toMatch(/^   ✖ 2026-12-02 01:19:00  light   13 ms  SIGKILL  \/elsewhere\/killed.py$/m);
    // Columns line up under their headings.
    const lines = frame.split('\n');
    const header = lines.find((l) => l.includes('WHEN'))!;
    const first = lines.find((l) => l.startsWith(' › '))!;
    for (const [heading, cell] of [['WHEN', '2026-12-02'], ['TIER', 'full'], ['STATUS', 'exit 0'], ['SCRIPT', 'demo.py']]) {
      expect({ heading, at: header.indexOf(heading!) }).toEqual({ heading, at: first.indexOf(cell!) });
    }
    expect(header.indexOf('WALL') + 'WALL'.length).toBe(first.indexOf('295 ms') + '295 ms'.length);
    // The newest run in detail: how the tier was chosen, the budget, every reason with the marks of --explain.
    expect(frame).toContain('── run of demo.py: full, 295 ms, exit 0 ──');
    expect(frame).toContain(`demo.py  sha256 ${HASH_DEMO.slice(0, 16)}…  full tier, picked by the router`);
    expect(frame).toContain('budget 500 ms');
    expect(frame).toContain('  - hot-loop (line 3): range() with a bound read at run time: the run-time profile decides');
    expect(frame).toContain('  > profile: learned: an earlier Light run took 859 ms, over the 500 ms budget');
    expect(frame.trimEnd().split('\n').at(-1)).toBe('↑↓/jk select run · Esc/r targets · q quit');
  });

  it('moves the pick with j/k and arrows, marks a Light run over its budget, and goes back with Esc', async () => {
    const a = app(fakeBackend().backend);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('r runs'));
    await a.press('r', /WHEN/);
    await a.press('j', /^ › ✔ 2026-12-02 01:22:05  light/m);
    expect(a.frame()).toContain('── run of demo.py: light, 859 ms, exit 0 ──');
    expect(a.frame()).toContain('over its 500 ms budget on Light: an auto run with that budget goes to Full next time');
    await a.press(KEY.down, /^ › ✖ 2026-12-02 01:20:00  full/m);
    expect(a.frame()).toContain('  ! exception-text (line 7): str(e) prints an exception message');
    await a.press('j', /^ › ✖ 2026-12-02 01:19:00  light/m);
    expect(a.frame()).toContain('light tier, asked for with --tier light');
    // The list ends: down at the bottom stays, up goes back.
    await a.press('j' + KEY.up + 'k', /^ › ✔ 2026-12-02 01:22:05  light/m);
    await a.press(KEY.escape, /TARGET/);
    await a.press('r', /WHEN/);
    // The pick is kept while the app runs.
    expect(a.frame()).toMatch(/^ › ✔ 2026-12-02 01:22:05  light/m);
    await a.press('q', /./);
    await until(() => expect(a.quit).toHaveBeenCalledWith('key'));
  });

  /** The app on the runs screen, once that screen watches the records. */
  async function watchingRuns() {
    const fake = fakeBackend();
    const a = app(fake.backend);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('r runs'));
    await a.press('r', /WHEN/);
    await until(() => expect(fake.watchers.size).toBe(1));
    return { fake, a };
  }

  it('shows a run recorded while the screen is open, keeping the pick on its run', async () => {
    const { fake, a } = await watchingRuns();
    await a.press('j', /^ › ✔ 2026-12-02 01:22:05  light/m);
    fake.record({ ...RUNS[0]!, time: at(1, 30, 0), wallMs: 301, exitCode: 1 });
    await until(() => expect(a.frame()).toMatch(row('2026-12-02 01:30:00', 'full +301 ms  exit 1 ')));
    // Still on the run that was picked, now one row lower.
    expect(a.frame()).toMatch(/^ › ✔ 2026-12-02 01:22:05  light/m);
    // Leaving the screen stops watching.
    await a.press(KEY.escape, /TARGET/);
    await until(() => expect(fake.watchers.size).toBe(0));
  });

  it('follows the newest run when none was picked', async () => {
    const { fake, a } = await watchingRuns();
    fake.record({ ...RUNS[1]!, time: at(1, 31, 0) });
    await until(() => expect(a.frame()).toMatch(/^ › ✔ 2026-12-02 01:31:00  light/m));
  });

  it('says how to record runs when there are none, and shows a read error', async () => {
    const a = app(fakeBackend([]).backend);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('r runs'));
    await a.press('r', /No runs recorded yet/);
    expect(a.frame()).toContain('No runs recorded yet.\n`slime run SCRIPT.py` runs a script on the tier the router picks; each run is listed here.');
    a.unmount();

    const broken = fakeBackend();
    broken.backend.recentRuns = async () => {
      throw new Error('cannot read /work/store/.slime/runs.jsonl: EACCES');
    };
    const b = app(broken.backend);
    unmount = b.unmount;
    await until(() => expect(b.frame()).toContain('r runs'));
    await b.press('r', /error: cannot read \/work\/store\/\.slime\/runs\.jsonl: EACCES/);
  });

  it('keeps a long list and long reasons inside a small terminal, the pick always on screen', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...RUNS[2]!, time: at(2, 0, 0) - i * 1000, reasons: Array.from({ length: 12 }, () => RUNS[2]!.reasons[0]!) }));
    const a = app(fakeBackend(many).backend, 16);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('r runs'));
    await a.press('r', /WHEN/);
    for (let i = 0; i < 30; i++) a.stdin.write('j');
    await until(() => expect(a.frame()).toMatch(/^ › ✖ 2026-12-02 01:59:30 /m));
    const lines = a.frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(15);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(a.frame()).toMatch(/… \d+ more/);
    expect(lines.at(-1)).toBe('↑↓/jk select run · Esc/r targets · q quit');
  });
});
