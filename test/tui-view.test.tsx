import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { SlimeEvent } from '../src/events.js';
import { BenchPanel, ratioBar } from '../tui/components/BenchPanel.js';
import { RealizeView, RunRecord } from '../tui/components/RealizeView.js';
import { Results, type ComparisonReport } from '../tui/components/Results.js';
import { initialState, reduceAll, type TuiState } from '../src/run/state.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';
import { DRAWN_TREE_LEVELS, rowModels } from '../tui/view-model.js';

const T0 = 1_700_000_000_000;
const MiB = 2 ** 20;

afterEach(() => cleanup());

function stateOf(events: SlimeEvent[]): TuiState {
  return reduceAll(initialState(T0), events);
}

function frame(element: ReactElement): string {
  return render(element).lastFrame() ?? '';
}

function lineWith(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle));
  if (line === undefined) throw new Error(`no line with ${needle} in:\n${text}`);
  return line;
}

const exit2 = { kind: 'exit', exitCode: 2, signal: null } as const;

/** One derivation in every state, on the 7-derivation isolate graph plus 9 leaves. */
const everyState: SlimeEvent[] = [
  plannedEvent(T0, 9),
  { type: 'lock-wait', time: T0, drvPath: p('lib01'), holder: 'pid 77' },
  { type: 'started', time: T0, drvPath: p('cpython-3.11.2-quick'), action: 'build' },
  { type: 'phase', time: T0, drvPath: p('cpython-3.11.2-quick'), phase: 'profile', done: 12, total: 44 },
  { type: 'started', time: T0 + 1_000, drvPath: p('Python-3.11.2.tar.xz'), action: 'fetch' },
  { type: 'progress', time: T0 + 2_000, drvPath: p('Python-3.11.2.tar.xz'), direction: 'download', bytes: 12.3 * MiB, total: 25.1 * MiB, bytesPerSecond: 4.2 * MiB },
  { type: 'started', time: T0, drvPath: p('lib02'), action: 'substitute' },
  { type: 'started', time: T0, drvPath: p('lib03'), action: 'build' },
  { type: 'built', time: T0 + 3_000, drvPath: p('lib03'), outputs: {}, durationMs: 3_000 },
  { type: 'substituted', time: T0 + 2_000, drvPath: p('lib04'), outputs: {}, from: 'cache.example', durationMs: 1_500 },
  { type: 'started', time: T0, drvPath: p('lib05'), action: 'build', logPath: '/logs/lib05.log' },
  { type: 'phase', time: T0, drvPath: p('lib05'), phase: 'make' },
  { type: 'failed', time: T0 + 4_000, drvPath: p('lib05'), reason: exit2, logPath: '/logs/lib05.log' },
  { type: 'skipped', time: T0 + 4_000, drvPath: p('lib06'), becauseOf: p('lib05') },
  { type: 'started', time: T0, drvPath: p('isolate'), action: 'build' },
  { type: 'phase', time: T0, drvPath: p('isolate'), phase: 'compile', done: 37, total: 58 },
  { type: 'started', time: T0, drvPath: p('isolate-verify'), action: 'build' },
  { type: 'phase', time: T0, drvPath: p('isolate-verify'), phase: 'compare', done: 30, total: 55, passed: 30 },
];

describe('RealizeView rows', () => {
  const out = frame(<RealizeView state={stateOf(everyState)} now={T0 + 5_000} width={110} height={40} />);

  it('gives every state its own symbol', () => {
    const symbolOf = (name: string) => lineWith(out, ` ${name}`).slice(1, 2);
    const symbols = {
      planned: symbolOf('lib07'),
      lockWait: symbolOf('lib01'),
      building: symbolOf('cpython-3.11.2-quick'),
      fetching: symbolOf('Python-3.11.2.tar.xz'),
      substituting: symbolOf('lib02'),
      built: symbolOf('lib03'),
      substituted: symbolOf('lib04'),
      cached: symbolOf('python3.11'),
      failed: symbolOf('lib05'),
      skipped: symbolOf('lib06'),
    };
    expect(symbols).toEqual({
      planned: '○',
      lockWait: '◌',
      building: '●',
      fetching: '↓',
      substituting: '⇣',
      built: '✔',
      substituted: '⇓',
      cached: '≡',
      failed: '✖',
      skipped: '⊘',
    });
  });

  it('shows elapsed time and the phase of each running build', () => {
    expect(lineWith(out, 'cpython-3.11.2-quick')).toMatch(/cpython-3\.11\.2-quick\s+5\.0s {2}profile 12\/44$/);
    expect(lineWith(out, '─ isolate ')).toMatch(/compile 37\/58 crates$/);
    expect(lineWith(out, 'isolate-verify')).toMatch(/compare 30\/55 \(30 ok\)$/);
    expect(lineWith(out, 'Python-3.11.2.tar.xz')).toMatch(/4\.0s {2}↓ 12\.3 MiB\/25\.1 MiB 4\.2 MiB\/s, ETA 3\.0s$/);
    expect(lineWith(out, 'lib01')).toContain('waiting for lock (pid 77)');
    expect(lineWith(out, 'lib03')).toMatch(/lib03\s+3\.0s$/);
    expect(lineWith(out, 'lib04')).toContain('from cache.example');
  });

  it('draws the target as the root of the dependency tree', () => {
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^ ● isolate-verify/);
    expect(lineWith(out, 'cpython-3.11.2-pgo')).toContain('│  ├─ cpython-3.11.2-pgo');
    expect(lineWith(out, 'Python-3.11.2.tar.xz')).toContain('│  │  └─ Python-3.11.2.tar.xz');
  });

  it('puts the overall progress, the ETA and the counts on one line', () => {
    const overall = lineWith(out, ' left');
    // 16 derivations; built, substituted, cached, failed and skipped are finished.
    expect(overall).toMatch(/^5\/16 [█░]{20} {2}31%/);
    // Unfinished with predictions: lib01 5s (waiting for a lock is not progress), lib02 5s-5s,
    // lib07-09 3×5s, quick 95s-5s, tarball 6s-4s, cargo-vendor 20s, pgo 420s, isolate
    // 140s-5s, verify 30s-5s: 712s.
    expect(overall).toContain('~11m52s left');
    expect(overall).toContain('● 6 running');
    expect(overall).toContain('✖ 1 failed');
  });

  it('lists failures with exit status, phase and log path', () => {
    expect(out).toContain('✖ 1 failed\n');
    expect(lineWith(out, '  lib05  ')).toMatch(/^ {2}lib05 {2}builder exited with code 2 {2}in make {2}\/logs\/lib05\.log$/);
  });

  it('never draws a line wider than the terminal', () => {
    const narrow = frame(<RealizeView state={stateOf(everyState)} now={T0 + 5_000} width={50} height={40} />);
    for (const line of narrow.split('\n')) expect([...line].length).toBeLessThanOrEqual(50);
  });
});

describe('RealizeView on a short terminal', () => {
  /** 12 running, 3 failed and 25 built, below a target that waits for them all. */
  function busy(): TuiState {
    const events: SlimeEvent[] = [plannedEvent(T0, 40)];
    for (let i = 1; i <= 40; i++) {
      const drvPath = p(`lib${String(i).padStart(2, '0')}`);
      events.push({ type: 'started', time: T0, drvPath, action: 'build', logPath: `/logs/lib${i}.log` });
      events.push({ type: 'log', time: T0, drvPath, stream: 'stdout', line: `output of lib${i}` });
      if (i <= 25) events.push({ type: 'built', time: T0 + 1000, drvPath, outputs: {}, durationMs: 1000 });
      else if (i <= 28) events.push({ type: 'failed', time: T0 + 1000, drvPath, reason: exit2, phase: 'make', logPath: `/logs/lib${i}.log` });
    }
    return stateOf(events);
  }

  it('keeps running builds and failures on screen, collapsing finished rows first', () => {
    const out = frame(<RealizeView state={busy()} now={T0 + 2000} width={100} height={30} />);
    const lines = out.split('\n');
    expect(lines.length).toBeLessThan(30);
    for (let i = 29; i <= 40; i++) expect(out).toMatch(new RegExp(`● .*lib${i} `));
    expect(out).toContain('✖ 3 failed');
    for (let i = 26; i <= 28; i++) expect(out).toContain(`/logs/lib${i}.log`);
    expect(out).toMatch(/… .*\d+ done not shown/);
    expect(out).not.toMatch(/✔ .*lib01 /);
    expect(out).toMatch(/── log of lib40/);
  });

  it('gives up log lines and failure rows before hiding a running build', () => {
    const out = frame(<RealizeView state={busy()} now={T0 + 2000} width={100} height={18} />);
    expect(out.split('\n').length).toBeLessThan(18);
    for (let i = 29; i <= 40; i++) expect(out).toMatch(new RegExp(`● .*lib${i} `));
    expect(out).toContain('✖ 3 failed');
    expect(out).toContain('… and 2 more');
  });
});

describe('RealizeView at the end of a run', () => {
  const report: ComparisonReport = {
    total: 3,
    passed: 2,
    samples: [
      { name: 'hello', category: 'poc0', pass: true, stdout: { python: { sha256: 'ab'.repeat(32), bytes: 12 }, isolate: { sha256: 'ab'.repeat(32), bytes: 12 } } },
      {
        name: 'float_repr',
        category: 'any',
        pass: false,
        stdout: { python: { sha256: '12'.repeat(32), bytes: 812 }, isolate: { sha256: '34'.repeat(32), bytes: 815 } },
        firstDifference: { stream: 'stdout', line: 12, python: '0.1', isolate: '0.10000000000000001' },
      },
      { name: 'dict_order', category: 'dynamic', pass: true, stdout: { python: { sha256: 'cd'.repeat(32), bytes: 2048 }, isolate: { sha256: 'cd'.repeat(32), bytes: 2048 } } },
    ],
  };
  const verify = p('isolate-verify');
  const verifyRun: SlimeEvent[] = [
    { type: 'started', time: T0, drvPath: verify, action: 'build' },
    { type: 'verified', time: T0 + 10, drvPath: verify, passed: 2, total: 3, reportPath: '/reports/v.json' },
    { type: 'built', time: T0 + 20, drvPath: verify, outputs: {}, durationMs: 20 },
    { type: 'finished', time: T0 + 65_000, built: 6, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 65_000, results: {} },
  ];
  const ended = stateOf([plannedEvent(T0), ...verifyRun]);

  it('ends the live frame with a line per verification and the summary, within the height', () => {
    const out = frame(<RealizeView state={ended} now={T0 + 70_000} width={120} height={6} />);
    const lines = out.split('\n');
    expect(lines.length).toBeLessThan(6);
    expect(lines.at(-2)).toBe('Sample comparison of isolate-verify: 2/3 bit-exact (report: /reports/v.json)');
    expect(lines.at(-1)).toBe('✔ Done in 1m05s: 6 built, 1 cached, 0 substituted, 0 failed');
    expect(out).not.toContain('── log of');
    expect(out).not.toContain(' left');
  });

  it('records every row of the tree and the verification results, however tall', () => {
    // 47 derivations: more rows than any live frame of 40 lines could hold.
    const big = stateOf([plannedEvent(T0, 40), ...verifyRun]);
    const out = frame(<RunRecord state={big} now={T0 + 70_000} width={100} reports={{ [verify]: report }} />);
    for (let i = 1; i <= 40; i++) expect(out).toMatch(new RegExp(`─ lib${String(i).padStart(2, '0')}\\b`));
    expect(out).not.toContain('not shown');
    expect(out).toMatch(/Sample comparison of isolate-verify {2}2\/3 bit-exact, 1 FAIL\n {2}FAIL {2}float_repr/);
    expect(out).toMatch(/ {2}PASS {2}dict_order +dynamic/);
    expect(out).not.toContain('Done in');
  });

  it('draws at most the deepest twelve levels of glyphs before a name, so a long chain stays on its lines', () => {
    // The benchmark's graph: d[i] needs d[i-1] and d[i/2]; its record drew 3000 columns of glyphs before the last names.
    const n = 1000;
    const drv = (i: number) => `/store/${String(i).padStart(32, 'a')}-d${i}.drv`;
    const derivations = Array.from({ length: n }, (_, i) => ({
      drvPath: drv(i), name: `d${i}`, outputs: {}, inputs: i > 0 ? [...new Set([drv(i - 1), drv(Math.floor(i / 2))])] : [], fixedOutput: false, valid: true,
    }));
    const chain = stateOf([{ type: 'planned', time: T0, targets: [drv(n - 1)], derivations }]);
    const rows = rowModels(chain, T0);
    expect(rows).toHaveLength(n);
    expect(Math.max(...rows.map((r) => r.prefix.length))).toBe(2 + 3 * DRAWN_TREE_LEVELS);
    // Near the root the tree is drawn in full, deeper down after an ellipsis.
    expect(rows.slice(0, 3).map((r) => r.prefix + r.name)).toEqual(['d999', '├─ d998', '│  └─ d997']);
    expect(rows.find((r) => r.name === 'd900')!.prefix).toMatch(/^… (│  | {3}){11}[├└]─ $/);
    const out = frame(<RunRecord state={chain} now={T0} width={100} />);
    expect(out.split('\n').filter((l) => l.trim() !== '')).toHaveLength(n);
    expect(out).toMatch(/─ d0\b/);
  });

  it('records the counts when the report could not be read', () => {
    const out = frame(<RunRecord state={ended} now={T0 + 70_000} width={120} />);
    expect(out).toContain('Sample comparison of isolate-verify: 2/3 bit-exact (report: /reports/v.json)');
  });

  it('shows the log of the first failure after a failed run', () => {
    const failed = stateOf([
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: p('isolate'), action: 'build' },
      { type: 'log', time: T0, drvPath: p('isolate'), stream: 'stderr', line: 'error[E0425]: cannot find value `x`' },
      { type: 'failed', time: T0 + 1, drvPath: p('isolate'), reason: exit2, phase: 'compile' },
      { type: 'finished', time: T0 + 2, built: 0, cached: 1, substituted: 0, failed: 1, skipped: 5, wallMs: 2 },
    ]);
    const out = frame(<RealizeView state={failed} now={T0 + 3} width={100} height={40} />);
    expect(out).toContain('── log of isolate');
    expect(out).toContain('error[E0425]: cannot find value `x`');
    expect(out).toContain('✖ Failed after 0.0s: 0 built, 1 cached, 0 substituted, 1 failed, 5 skipped');
    expect(out).not.toMatch(/[●◌↓⇣○] /);
  });

  describe('Results', () => {
    it('lists PASS and FAIL per sample with sizes and hash prefixes, failures first', () => {
      const out = frame(<Results report={report} />);
      const lines = out.split('\n');
      expect(lines[0]).toBe('Sample comparison  2/3 bit-exact, 1 FAIL');
      expect(lines[1]).toMatch(/^ {2}FAIL {2}float_repr {2}any {6}812 B ≠ 815 B {2}121212121212 ≠ 343434343434$/);
      expect(lines[2]).toMatch(/stdout line 12 {2}python : "0\.1"$/);
      expect(lines[3]).toMatch(/^ +isolate: "0\.10000000000000001"$/);
      expect(lines[4]).toMatch(/^ {2}PASS {2}hello {7}poc0 +12 B {2}abababababab$/);
      expect(lines[5]).toMatch(/^ {2}PASS {2}dict_order {2}dynamic +2\.0 KiB {2}cdcdcdcdcdcd$/);
    });

    it('says how a run exited when that is the difference, and why a reference run is wrong', () => {
      const digest = { sha256: '0'.repeat(64), bytes: 0 };
      const odd: ComparisonReport = {
        total: 2,
        passed: 0,
        samples: [
          { name: 'exits', category: 'errors', pass: false, stdout: { python: digest, isolate: digest }, firstDifference: { stream: 'exit', python: 'exit 1', isolate: 'exit 0' } },
          { name: 'slow', category: 'any', pass: false, stdout: { python: digest, isolate: digest }, problem: 'python3.11 timed out after 30 s' },
        ],
      };
      const lines = frame(<Results report={odd} />).split('\n');
      expect(lines[2]).toMatch(/^ {8}exit {2}python : "exit 1"$/);
      expect(lines[3]).toMatch(/^ {8} {4} {2}isolate: "exit 0"$/);
      expect(lines[5]).toBe('        python3.11 timed out after 30 s');
    });

    it('says bit-exact when all pass, and cuts passes before failures', () => {
      const allPass: ComparisonReport = { total: 41, passed: 41, samples: report.samples.filter((s) => s.pass) };
      expect(frame(<Results report={allPass} />).split('\n')[0]).toBe('Sample comparison  41/41 bit-exact');
      const cut = frame(<Results report={report} maxRows={2} />);
      expect(cut).toContain('FAIL  float_repr');
      expect(cut).toContain('PASS  hello');
      expect(cut).not.toContain('dict_order');
      expect(cut).toContain('… 1 more passed');
    });
  });
});

describe('BenchPanel', () => {
  it('shows each workload against the reference with a bar and when it was measured', () => {
    const out = frame(
      <BenchPanel
        measuredAt="2026-11-21 09:00 UTC"
        reference="python3.11 (Debian)"
        rows={[
          { workload: 'fib', interpreter: 'python3.11 (Debian)', medianMs: 120, ratio: 1 },
          { workload: 'fib', interpreter: 'isolate', medianMs: 240, ratio: 2 },
          { workload: 'startup', interpreter: 'isolate', medianMs: 6.5, ratio: 0.5 },
        ]}
      />,
    );
    const lines = out.split('\n');
    expect(lines[0]).toBe('Benchmarks vs python3.11 (Debian)  measured 2026-11-21 09:00 UTC');
    expect(lines[1]).toBe('  workload  interpreter             median   ratio');
    expect(lines[2]).toBe(`  fib       python3.11 (Debian)     120 ms   1.00×  ${'█'.repeat(12)}`);
    expect(lines[3]).toBe(`  fib       isolate                 240 ms   2.00×  ${'█'.repeat(12)}${'▒'.repeat(12)}`);
    expect(lines[4]).toBe(`  startup   isolate                6.50 ms   0.50×  ${'█'.repeat(6)}     │`);
  });

  it('scales bars to the largest ratio and marks parity', () => {
    expect(ratioBar(1, 1, 10)).toBe('█'.repeat(10));
    expect(ratioBar(0.5, 1, 10)).toBe(`${'█'.repeat(5)}    │`);
    expect(ratioBar(4, 4, 8)).toBe(`██${'▒'.repeat(6)}`);
  });
});
