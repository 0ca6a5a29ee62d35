/**
 * The statistics of `slime bench`: spread, the seeded generator, and the paired
 * bootstrap interval of a ratio of medians, checked against data whose true ratio is
 * known; and the cachegrind summary reader and the printed table.
 */
import { describe, expect, it } from 'vitest';
import { parseCachegrindSummary } from '../src/bench/cachegrind.js';
import { formatBenchTable, rowsOf, type BenchResult, type RunFigures } from '../src/bench/run-bench.js';
import { bootstrapMedian, bootstrapMedianRatio, median, quantileSorted, seededRandom, spread } from '../src/bench/stats.js';

/** Normal deviates from the seeded generator (Box-Muller). */
function normals(seed: number, n: number): number[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

describe('spread and median', () => {
  it('gives min, median and max; the median of an even count is the mean of the middle two', () => {
    expect(spread([5, 1, 3])).toEqual({ min: 1, median: 3, max: 5 });
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantileSorted([0, 10], 0.975)).toBeCloseTo(9.75);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow(/no values/);
    expect(() => spread([])).toThrow(/no values/);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs between seeds, and stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(median(xs)).toBeGreaterThan(0.45);
    expect(median(xs)).toBeLessThan(0.55);
  });
});

describe('bootstrapMedianRatio', () => {
  it('is a point when the other interpreter is exactly a fixed factor of the reference, round by round', () => {
    const refs = normals(1, 15).map((z) => 100 + 5 * z);
    const xs = refs.map((x) => 0.9 * x);
    const ci = bootstrapMedianRatio(refs, xs);
    expect(ci.low).toBeCloseTo(0.9, 12);
    expect(ci.high).toBeCloseTo(0.9, 12);
  });

  it('holds the true ratio and excludes 1 for a 5% difference under 1% noise, and widens with the noise', () => {
    const n = 21;
    const make = (noise: number, seed: number) => {
      const a = normals(seed, n).map((z) => 100 * (1 + noise * z));
      const b = normals(seed + 1000, n).map((z) => 95 * (1 + noise * z));
      return bootstrapMedianRatio(a, b);
    };
    const quiet = make(0.01, 3);
    expect(quiet.low).toBeLessThan(0.95);
    expect(quiet.high).toBeGreaterThan(0.95);
    expect(quiet.high).toBeLessThan(1);
    const loud = make(0.1, 3);
    expect(loud.high - loud.low).toBeGreaterThan(3 * (quiet.high - quiet.low));
  });

  it('covers the true ratio in most of 200 simulated benches (nominal 95%)', () => {
    let covered = 0;
    for (let k = 0; k < 200; k++) {
      const a = normals(10 + k, 15).map((z) => 100 * (1 + 0.03 * z));
      const b = normals(5000 + k, 15).map((z) => 97 * (1 + 0.03 * z));
      const ci = bootstrapMedianRatio(a, b, { iterations: 400, seed: k + 1 });
      if (ci.low <= 0.97 && 0.97 <= ci.high) covered++;
    }
    // A percentile bootstrap of medians of 15 runs under-covers a little; far below 85% would be a bug.
    expect(covered).toBeGreaterThanOrEqual(170);
    expect(covered).toBeLessThanOrEqual(200);
  });

  it('pairs rounds: a load that slows both interpreters in a round does not widen the interval', () => {
    const n = 15;
    const load = normals(42, n).map((z) => 1 + 0.2 * Math.abs(z)); // the machine's state per round
    const own = normals(43, n).map((z) => 1 + 0.005 * z);
    const refs = load.map((l, i) => 100 * l * own[i]);
    const xs = load.map((l, i) => 98 * l / own[i]);
    const paired = bootstrapMedianRatio(refs, xs);
    expect(paired.low).toBeLessThan(0.98);
    expect(paired.high).toBeGreaterThan(0.98);
    expect(paired.high).toBeLessThan(1);
    // The same runs with their rounds shuffled apart (as an unpaired comparison would treat them).
    const shuffled = [...xs.slice(7), ...xs.slice(0, 7)];
    const unpaired = bootstrapMedianRatio(refs, shuffled);
    expect(unpaired.high - unpaired.low).toBeGreaterThan(3 * (paired.high - paired.low));
  });

  it('is the same for the same runs (seeded) and refuses unpaired or empty runs', () => {
    const a = normals(5, 9).map((z) => 50 + z);
    const b = normals(6, 9).map((z) => 49 + z);
    expect(bootstrapMedianRatio(a, b)).toEqual(bootstrapMedianRatio(a, b));
    expect(() => bootstrapMedianRatio(a, b.slice(1))).toThrow(/as many runs/);
    expect(() => bootstrapMedianRatio([], [])).toThrow(/no runs/);
  });
});

describe('bootstrapMedian', () => {
  it('brackets the median of many ratios', () => {
    const ratios = normals(9, 67).map((z) => 0.9 + 0.05 * z);
    const ci = bootstrapMedian(ratios);
    expect(ci.low).toBeLessThanOrEqual(median(ratios));
    expect(ci.high).toBeGreaterThanOrEqual(median(ratios));
    expect(ci.high - ci.low).toBeLessThan(0.06);
  });
});

describe('parseCachegrindSummary', () => {
  const file = [
    'desc: I1 cache:         32768 B, 64 B, 8-way associative',
    'cmd: /usr/bin/python3.11 startup.py',
    'events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw Bc Bcm Bi Bim',
    'fl=???', 'fn=0x0000000000001100', '0 3 1 1',
    'summary: 31966354 271519 12312 8410226 523347 17546 3746188 50094 25181 5975966 431760 288595 81258',
  ].join('\n');

  it('maps the summary counts to the event names', () => {
    const e = parseCachegrindSummary(file, 'x.out');
    expect(e.Ir).toBe(31966354);
    expect(e.Bim).toBe(81258);
    expect(Object.keys(e)).toHaveLength(13);
  });

  it('names the file and the problem when the run did not finish', () => {
    expect(() => parseCachegrindSummary(file.split('\n').slice(0, 4).join('\n'), 'x.out')).toThrow(/x\.out has no summary: line/);
    expect(() => parseCachegrindSummary('events: Ir Dr\nsummary: 1\n', 'y.out')).toThrow(/y\.out: 2 events but 1 summary counts/);
    expect(() => parseCachegrindSummary('events: Ir\nsummary: -4\n', 'z.out')).toThrow(/Ir is "-4"/);
  });
});

describe('formatBenchTable', () => {
  it('prints each row with its spread, ratio interval and CPU time, and the instruction counts', () => {
    const interpreters = [{ label: 'python3.11 (Debian)', command: '/usr/bin/python3.11' }, { label: 'isolate', command: '/x/isolate' }];
    const run = (wall: number): RunFigures => ({ wallMs: wall, userMs: wall * 0.9, sysMs: wall * 0.05 });
    const runs = new Map([
      ['python3.11 (Debian)', [100, 101, 99, 102, 98].map(run)],
      ['isolate', [90, 91, 89, 92, 88].map(run)],
    ]);
    const rows = rowsOf({ name: 'pure int loop, M=3,000,000', kind: 'pure' }, interpreters, runs).map((r) => ({ ...r, load: [12.25, 14] as [number, number] }));
    expect(rows[1]).toMatchObject({ minMs: 88, medianMs: 90, maxMs: 92, ratio: 0.9 });
    expect(rows[1].ratioCi!.low).toBeLessThanOrEqual(0.9);
    expect(rows[1].cpuRatio).toBeCloseTo(0.9, 12);
    const result: BenchResult = {
      target: 't', measuredAt: '2026-12-01T00:00:00.000Z', reference: 'python3.11 (Debian)', warmups: 3, reps: 5, interpreters, rows,
      counts: [
        { workload: 'start-up', kind: 'startup', interpreter: 'python3.11 (Debian)', args: [], events: { Ir: 2_000_000, I1mr: 10, ILmr: 1, DLmr: 2, DLmw: 3, Bc: 100, Bcm: 7, Bi: 5, Bim: 1 }, ratio: 1 },
        { workload: 'start-up', kind: 'startup', interpreter: 'isolate', args: [], events: { Ir: 1_900_000, I1mr: 9, ILmr: 1, DLmr: 2, DLmw: 3, Bc: 100, Bcm: 6, Bi: 5, Bim: 1 }, ratio: 0.95 },
      ],
    };
    const text = formatBenchTable(result);
    expect(text).toContain('88.0 / 90.0 / 92.0');
    expect(text).toContain('#### pure int loop, M=3,000,000 #### (load average 12.3 -> 14.0)');
    expect(text).toMatch(/isolate\s+88\.0 \/ 90\.0 \/ 92\.0\s+0\.900\s+\[0\.\d{3}, 0\.\d{3}\]\s+85\.5\s+0\.900/);
    expect(text).toMatch(/isolate\s+1,900,000\s+0\.950\s+9\s+6\s+105\s+7/);
    expect(text).toContain('95% bootstrap of the median ratio, resampling rounds');
  });
});
