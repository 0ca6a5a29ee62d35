/**
 * The `slime tui` app, rendered with ink-testing-library over a stand-in backend:
 * the target list and its states, the detail panels, which keys work where (and
 * that the help line offers exactly those), and a realize shown as it runs.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from './support/until.js';
import type { EventSink, SlimeEvent } from '../src/events.js';
import { App } from '../tui/app/App.js';
import { targetsHelp, targetsKey } from '../tui/app/app-state.js';
import type { Backend, RunOutcome, TargetInfo } from '../tui/app/backend.js';
import { Runs } from '../tui/app/runs.js';
import { keystrokes } from '../tui/app/keys.js';
import { syntheticDrvPath as p } from '../tui/synthetic.js';

const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', escape: '\x1b', tab: '\t', ctrlC: '\x03' };

const HELLO = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';

const TARGETS: TargetInfo[] = [
  {
    name: 'full-x86_64-quick',
    description: 'the CI build',
    state: 'realized',
    valid: 14,
    total: 14,
    comparesSamples: true,
    report: {
      total: 2,
      passed: 1,
      samples: [
        { name: '01_hello', category: 'basics', pass: true, stdout: { python: { sha256: HELLO, bytes: 6 }, isolate: { sha256: HELLO, bytes: 6 } } },
        {
          name: '02_exit',
          category: 'process',
          pass: false,
          stdout: { python: { sha256: HELLO, bytes: 6 }, isolate: { sha256: HELLO, bytes: 6 } },
          firstDifference: { stream: 'exit', python: 'exit 3', isolate: 'exit 1' },
        },
      ],
    },
    bench: {
      measuredAt: '2026-11-21T09:00:00.000Z',
      reference: 'python3.11 (Debian)',
      rows: [
        { workload: 'pure int loop', interpreter: 'python3.11 (Debian)', medianMs: 200, ratio: 1 },
        { workload: 'pure int loop', interpreter: 'isolate', medianMs: 150, ratio: 0.75 },
      ],
    },
  },
  { name: 'full-x86_64', description: 'PGO+LTO', state: 'partly', valid: 9, total: 14, comparesSamples: true },
  { name: 'cpython-quick', description: 'CPython alone', state: 'not yet', valid: 0, total: 3, comparesSamples: false },
];

const T0 = 1_700_000_000_000;
const A = p('greeting');
const B = p('compiler');

/** A backend whose realize plays `events` and then waits until the test (or an abort) ends it. */
function fakeBackend() {
  const calls: string[] = [];
  let finish: (outcome: RunOutcome) => void = () => {};
  let sink: EventSink | undefined;
  const backend: Backend = {
    moduleName: 'derivations/index.ts',
    storeDir: '/work/store',
    targets: async () => TARGETS,
    realize: (target, events, signal) => {
      calls.push(`realize ${target}`);
      sink = events;
      return new Promise((resolve) => {
        finish = resolve;
        signal.addEventListener('abort', () => {
          calls.push('aborted');
          resolve({ failed: 0, interrupted: true });
        });
      });
    },
    rerunSampleComparison: async (target) => {
      calls.push(`compare-samples ${target}`);
      return { failed: 0, interrupted: false };
    },
    logFile: (drvPath) => `/logs/${drvPath}.log`,
  };
  const emit = (...events: SlimeEvent[]) => events.forEach((e) => sink!.emit(e));
  return { backend, calls, emit, finish: (outcome: RunOutcome) => finish(outcome) };
}

function app(fake: ReturnType<typeof fakeBackend>) {
  const quit = vi.fn();
  const runs = new Runs(fake.backend);
  const r = render(<App backend={fake.backend} runs={runs} quit={quit} width={100} height={30} />);
  const frame = () => r.lastFrame() ?? '';
  const press = async (keys: string, expected: string | RegExp) => {
    r.stdin.write(keys);
    await until(() => expect(frame()).toMatch(expected));
  };
  return { ...r, frame, press, quit, runs };
}

describe('the slime tui app', () => {
  let unmount: (() => void) | undefined;
  afterEach(() => unmount?.());

  it('lists the targets with their state and sample comparison, and the selected one in detail', async () => {
    const a = app(fakeBackend());
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    const frame = a.frame();
    expect(frame).toContain('slime tui · derivations/index.ts · store /work/store');
    expect(frame).toMatch(/ › ✔ full-x86_64-quick +realized 14\/14 +1\/2 bit-exact +the CI build\n/);
    expect(frame).toMatch(/   ◐ full-x86_64 +partly 9\/14 +— +PGO\+LTO\n/);
    expect(frame).toMatch(/   ○ cpython-quick +not yet 0\/3 +— +CPython alone\n/);
    // Columns line up under their headings.
    const [, header, first] = frame.split('\n');
    for (const [heading, cell] of [['TARGET', 'full-x86_64-quick'], ['STATE', 'realized'], ['SAMPLES', '1/2'], ['DESCRIPTION', 'the CI build']]) {
      expect({ heading, at: header!.indexOf(heading!) }).toEqual({ heading, at: first!.indexOf(cell!) });
    }
    // The failure is listed with how the runs differ, and the benchmark under it.
    expect(frame).toMatch(/Sample comparison of full-x86_64-quick  1\/2 bit-exact, 1 FAIL\n  FAIL  02_exit/);
    expect(frame).toMatch(/ +exit  python : "exit 3"\n +isolate: "exit 1"\n/);
    expect(frame).toContain('Benchmarks vs python3.11 (Debian)  measured 2026-11-21T09:00:00.000Z');
    expect(frame).toMatch(/pure int loop +isolate +150 ms +0\.75×/);
  });

  it('cuts a long description to the width with an ellipsis, and nothing else', async () => {
    const fake = fakeBackend();
    fake.backend.targets = async () => [{ ...TARGETS[2]!, description: 'x'.repeat(200) }];
    const a = app(fake);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    const row = a.frame().split('\n')[2]!;
    expect(row).toHaveLength(100);
    // Cut with an ellipsis, so the cut shows.
    expect(row).toMatch(/^ › ○ cpython-quick  not yet 0\/3  — +x+…$/);
  });

  it('moves the selection with arrows and j/k, and offers s only for a target that compares samples', async () => {
    const a = app(fakeBackend());
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    expect(a.frame()).toContain('↑↓/jk select · Enter realize · s compare samples again · q quit');
    await a.press('j', / › ◐ full-x86_64 /);
    expect(a.frame()).toContain('Samples not compared yet: Enter realizes the target, the comparison included.');
    await a.press(KEY.down, / › ○ cpython-quick /);
    expect(a.frame()).toContain('This target compares no samples.');
    expect(a.frame()).toContain('↑↓/jk select · Enter realize · q quit');
    expect(a.frame()).not.toContain('v rerun');
    // The list does not wrap: down at the bottom stays, up goes back.
    await a.press('j', / › ○ cpython-quick /);
    await a.press(KEY.up + 'k', / › ✔ full-x86_64-quick /);
  });

  it('realizes the picked target with the live tree, marks it running in the list, and stops it on Ctrl-C', async () => {
    const fake = fakeBackend();
    const a = app(fake);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    await a.press(KEY.enter, /^realize full-x86_64-quick  ● running/);
    expect(fake.calls).toEqual(['realize full-x86_64-quick']);
    fake.emit(
      {
        type: 'planned',
        time: T0,
        targets: [B],
        derivations: [
          { drvPath: A, name: 'greeting', outputs: {}, inputs: [], fixedOutput: false, valid: true },
          { drvPath: B, name: 'compiler', outputs: {}, inputs: [A], fixedOutput: false, valid: false },
        ],
      },
      { type: 'started', time: T0, drvPath: B, action: 'build', logPath: '/logs/compiler.log' },
      { type: 'phase', time: T0, drvPath: B, phase: 'make' },
      { type: 'log', time: T0, drvPath: B, stream: 'stdout', line: 'cc -c needle.c' },
    );
    await until(() => expect(a.frame()).toMatch(/›● compiler +\S+ +make\n ≡ └─ greeting\n/));
    expect(a.frame()).toContain('cc -c needle.c');
    expect(a.frame()).toContain('↑↓/jk select derivation · l/Enter full log · Esc targets · Ctrl-C/q stop builds and quit');

    // The list while it runs: the target is marked, and nothing else can start.
    await a.press(KEY.escape, / › ● full-x86_64-quick +realizing/);
    expect(a.frame()).toContain('↑↓/jk select · Tab running build · q stop builds and quit');
    a.stdin.write(KEY.enter + 's');
    expect(fake.calls).toEqual(['realize full-x86_64-quick']);
    await a.press(KEY.tab, /^realize full-x86_64-quick/);

    a.stdin.write(KEY.ctrlC);
    await until(() => expect(a.frame()).toContain('stopping the running builds…'));
    expect(a.quit).toHaveBeenCalledWith('interrupt');
    // The app asks for the quit; stopping is the runner's, and it reaches the backend's signal.
    await a.runs.stop();
    expect(fake.calls).toEqual(['realize full-x86_64-quick', 'aborted']);
  });

  it('opens the focused derivation of a run in the log viewer and comes back', async () => {
    const fake = fakeBackend();
    const a = app(fake);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    await a.press(KEY.enter, /^realize/);
    fake.emit(
      {
        type: 'planned',
        time: T0,
        targets: [B],
        derivations: [
          { drvPath: A, name: 'greeting', outputs: {}, inputs: [], fixedOutput: false, valid: false },
          { drvPath: B, name: 'compiler', outputs: {}, inputs: [A], fixedOutput: false, valid: false },
        ],
      },
      { type: 'started', time: T0, drvPath: A, action: 'build' },
      { type: 'built', time: T0 + 1000, drvPath: A, outputs: {}, durationMs: 1000 },
      { type: 'started', time: T0 + 1000, drvPath: B, action: 'build' },
      { type: 'failed', time: T0 + 2000, drvPath: B, reason: { kind: 'exit', exitCode: 2, signal: null }, logPath: '/logs/compiler.log' },
      { type: 'finished', time: T0 + 2000, built: 1, cached: 0, substituted: 0, failed: 1, skipped: 0, wallMs: 2000, results: {} },
    );
    fake.finish({ failed: 1, interrupted: false });
    await until(() => expect(a.frame()).toContain('✖ Failed after 2.0s'));
    await until(() => expect(a.frame()).toContain('q quit'));
    // The failure has the focus; down moves it to its input, and l opens that one's log.
    expect(a.frame()).toMatch(/›✖ compiler/);
    await a.press('j', /›✔ └─ greeting/);
    await a.press('l', 'there is no log: it was not built in this store: /logs//store/');
    expect(a.frame()).toMatch(/^── log of greeting · empty ──/);
    await a.press(KEY.escape, /^realize full-x86_64-quick/);
    await a.press(KEY.escape, / › ✖ full-x86_64-quick +failed 14\/14/);
    a.stdin.write('q');
    await until(() => expect(a.quit).toHaveBeenCalledWith('key'));
  });

  it('compares the samples of the selected target again with s', async () => {
    const fake = fakeBackend();
    const a = app(fake);
    unmount = a.unmount;
    await until(() => expect(a.frame()).toContain('TARGET'));
    await a.press('s', /^compare samples again: full-x86_64-quick/);
    expect(fake.calls).toEqual(['compare-samples full-x86_64-quick']);
  });
});

describe('the key map', () => {
  const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };

  it('has no key the help line does not mention, and mentions none that does nothing', () => {
    const keys: [string, string, Partial<typeof none>][] = [['Enter', '', { return: true }], ['s', 's', {}], ['Tab', '', { tab: true }], ['q', 'q', {}]];
    for (const running of [false, true]) {
      for (const hasRun of [false, true]) {
        for (const comparesSamples of [false, true]) {
          const ctx = { running, hasRun, comparesSamples };
          const help = targetsHelp(ctx);
          for (const [label, input, patch] of keys) {
            const key = { ...none, ...patch };
            const offered = help.split(' · ').some((part) => part.startsWith(`${label} `));
            expect({ ctx, label, works: targetsKey(input, key, ctx) !== undefined }).toEqual({ ctx, label, works: offered });
          }
        }
      }
    }
  });

  it('reads a chunk of typed keys one by one, control characters as their keys', () => {
    const strokes = keystrokes('j\r\x7f\x03', none);
    expect(strokes.map(([input, key]) => [input, key.return, key.backspace, key.ctrl])).toEqual([
      ['j', false, false, false],
      ['', true, false, false],
      ['', false, true, false],
      ['c', false, false, true],
    ]);
  });
});
