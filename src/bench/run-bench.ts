/**
 * `slime bench`: the seed reports' speed comparison, in one run, measured so that a
 * difference of a few percent can be told from noise.
 *
 * Every workload runs under every interpreter, interleaved (the order rotates each
 * round, so a slow moment of the machine does not land on one interpreter), with
 * warm-up runs discarded. Each run is measured by the harness (harness.ts): wall time
 * and the child's own user+system CPU time from wait4(2). Per workload and interpreter
 * the spread (min, median, max) is kept, and every ratio against the reference
 * interpreter (Debian's python3.11, measured in the same rounds) comes with a 95%
 * bootstrap interval of the ratio of medians (stats.ts), resampling rounds.
 *
 * Wall and CPU time move with the load of a shared machine; instruction counts from
 * cachegrind (cachegrind.ts) do not: `countInstructions` runs each workload once per
 * interpreter under cachegrind, at a smaller size (cachegrind is ~50x slower).
 *
 * Timings are impure: they are kept with a timestamp in `<store>/.slime/bench/`, every
 * run's figures included (so a record can be re-analysed), never as store outputs.
 *
 *   <store>/.slime/bench/<target>-<measuredAt with : and . as ->.json   one record each
 *   <store>/.slime/bench/<target>-latest.json                             the last one
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlimeError } from '../errors.js';
import { writeFileAtomic, type Store } from '../store/store.js';
import { cachegrindArgv, readCachegrindSummary } from './cachegrind.js';
import type { Harness, Measured } from './harness.js';
import { bootstrapMedian, bootstrapMedianRatio, median, spread, type Interval } from './stats.js';

export { median } from './stats.js';

export interface Interpreter {
  label: string;
  command: string;
}

export interface Workload {
  name: string;
  /** Group in the printed table: `pure`, `dynamic`, `startup`, `sample`. */
  kind: string;
  script: string;
  args: string[];
  cwd: string;
  /** Exit status every run must end with (workloads: 0); samples may exit as they like. */
  expectStatus?: number;
}

/** One measured run, as kept in the record. */
export interface RunFigures {
  wallMs: number;
  userMs: number;
  sysMs: number;
}

export interface BenchRow {
  workload: string;
  kind: string;
  interpreter: string;
  /** Median wall time. */
  medianMs: number;
  /** Median wall time over the reference's. */
  ratio: number;
  minMs?: number;
  maxMs?: number;
  /** 95% bootstrap interval of `ratio`. */
  ratioCi?: { low: number; high: number };
  /** Median user+system CPU time of the process. */
  cpuMs?: number;
  cpuMinMs?: number;
  cpuMaxMs?: number;
  cpuRatio?: number;
  cpuRatioCi?: { low: number; high: number };
  /** Every measured run, in round order (warm-ups left out). */
  runs?: RunFigures[];
  /** The machine's 1-minute load average when the workload's runs began and ended (os.loadavg). */
  load?: [number, number];
}

/** One cachegrind run: the workload at its counting size under one interpreter. */
export interface CountRow {
  workload: string;
  kind: string;
  interpreter: string;
  args: string[];
  /** cachegrind's summary: Ir, I1mr, ILmr, Dr, D1mr, DLmr, Dw, D1mw, DLmw, Bc, Bcm, Bi, Bim. */
  events: Record<string, number>;
  /** Ir over the reference's Ir. */
  ratio: number;
}

export interface BenchResult {
  target: string;
  measuredAt: string;
  reference: string;
  warmups: number;
  reps: number;
  interpreters: Interpreter[];
  rows: BenchRow[];
  /** Runs per sample, when samples were timed. */
  sampleReps?: number;
  counts?: CountRow[];
  /** How the intervals were drawn. */
  bootstrap?: { iterations: number; level: number; seed: number };
}

export const BOOTSTRAP = { iterations: 2000, level: 0.95, seed: 1 };

export const ENV = { PYTHONHASHSEED: '0', LC_ALL: 'C', TZ: 'UTC', PATH: '/usr/bin:/bin' };

function cpu(m: RunFigures): number {
  return m.userMs + m.sysMs;
}

function ci(i: Interval): { low: number; high: number } {
  return { low: i.low, high: i.high };
}

async function measure(harness: Harness, interp: Interpreter, w: Workload): Promise<Measured> {
  const m = await harness.run([interp.command, w.script, ...w.args], w.cwd, ENV);
  if (w.expectStatus !== undefined && m.status !== w.expectStatus) {
    throw new SlimeError(`${w.name} exited ${m.status} under ${interp.label} (${interp.command}), not ${w.expectStatus}; run \`${interp.command} ${[w.script, ...w.args].join(' ')}\` to see why`);
  }
  return m;
}

/** The rows of one workload from its interleaved runs; the first interpreter is the reference. */
export function rowsOf(w: Pick<Workload, 'name' | 'kind'>, interpreters: Interpreter[], runs: Map<string, RunFigures[]>): BenchRow[] {
  const refRuns = runs.get(interpreters[0].label)!;
  const refWall = refRuns.map((r) => r.wallMs);
  const refCpu = refRuns.map(cpu);
  return interpreters.map((interp) => {
    const mine = runs.get(interp.label)!;
    const wall = spread(mine.map((r) => r.wallMs));
    const cpuSpread = spread(mine.map(cpu));
    return {
      workload: w.name,
      kind: w.kind,
      interpreter: interp.label,
      medianMs: wall.median,
      ratio: wall.median / median(refWall),
      minMs: wall.min,
      maxMs: wall.max,
      ratioCi: ci(bootstrapMedianRatio(refWall, mine.map((r) => r.wallMs), BOOTSTRAP)),
      cpuMs: cpuSpread.median,
      cpuMinMs: cpuSpread.min,
      cpuMaxMs: cpuSpread.max,
      cpuRatio: cpuSpread.median / median(refCpu),
      cpuRatioCi: ci(bootstrapMedianRatio(refCpu, mine.map(cpu), BOOTSTRAP)),
      runs: mine,
    };
  });
}

export async function runBench(opts: {
  target: string;
  interpreters: Interpreter[];
  workloads: Workload[];
  warmups: number;
  reps: number;
  harness: Harness;
  onProgress?: (done: number, total: number, workload: string) => void;
}): Promise<BenchResult> {
  const { interpreters, workloads, warmups, reps, harness } = opts;
  const rows: BenchRow[] = [];
  let done = 0;
  for (const w of workloads) {
    const runs = new Map<string, RunFigures[]>(interpreters.map((i) => [i.label, []]));
    const loadBefore = os.loadavg()[0];
    for (let round = 0; round < warmups + reps; round++) {
      const order = interpreters.map((_, k) => interpreters[(k + round) % interpreters.length]);
      for (const interp of order) {
        const m = await measure(harness, interp, w);
        if (round >= warmups) runs.get(interp.label)!.push({ wallMs: m.wallMs, userMs: m.userMs, sysMs: m.sysMs });
      }
    }
    const load: [number, number] = [round2(loadBefore), round2(os.loadavg()[0])];
    rows.push(...rowsOf(w, interpreters, runs).map((row) => ({ ...row, load })));
    opts.onProgress?.(++done, workloads.length, w.name);
  }
  return {
    target: opts.target,
    measuredAt: new Date().toISOString(),
    reference: interpreters[0].label,
    warmups,
    reps,
    interpreters,
    rows,
    bootstrap: BOOTSTRAP,
  };
}

/**
 * Runs each workload once per interpreter under cachegrind; `workDir` receives the
 * cachegrind output files (kept: they hold the per-function counts, for
 * `cg_annotate`). Ratios are against the first interpreter.
 */
export async function countInstructions(opts: {
  interpreters: Interpreter[];
  workloads: Workload[];
  harness: Harness;
  workDir: string;
  onProgress?: (done: number, total: number, what: string) => void;
}): Promise<CountRow[]> {
  const { interpreters, workloads, harness, workDir } = opts;
  fs.mkdirSync(workDir, { recursive: true });
  const rows: CountRow[] = [];
  let done = 0;
  const total = workloads.length * interpreters.length;
  for (const w of workloads) {
    const mine: CountRow[] = [];
    for (const [k, interp] of interpreters.entries()) {
      const file = path.join(workDir, `${w.kind}-${k}.cachegrind.out`);
      fs.rmSync(file, { force: true });
      const m = await harness.run([...cachegrindArgv(file), interp.command, w.script, ...w.args], w.cwd, ENV);
      if (w.expectStatus !== undefined && m.status !== w.expectStatus) {
        throw new SlimeError(`${w.name} exited ${m.status} under cachegrind and ${interp.label}, not ${w.expectStatus}; run it by hand under ${cachegrindArgv(file).join(' ')} to see why`);
      }
      mine.push({ workload: w.name, kind: w.kind, interpreter: interp.label, args: w.args, events: readCachegrindSummary(file), ratio: 0 });
      opts.onProgress?.(++done, total, `${w.name} under ${interp.label}`);
    }
    for (const r of mine) r.ratio = r.events.Ir / mine[0].events.Ir;
    rows.push(...mine);
  }
  return rows;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function benchDir(store: Store): string {
  return path.join(store.stateDir, 'bench');
}

/** Keeps the result with its timestamp, and as the target's latest. */
export function saveBench(store: Store, result: BenchResult): string {
  const dir = benchDir(store);
  const stamp = result.measuredAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${result.target}-${stamp}.json`);
  writeFileAtomic(file, JSON.stringify(result, null, 1));
  writeFileAtomic(path.join(dir, `${result.target}-latest.json`), JSON.stringify(result, null, 1));
  return file;
}

export function latestBench(store: Store, target: string): BenchResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(benchDir(store), `${target}-latest.json`), 'utf8')) as BenchResult;
  } catch {
    return undefined;
  }
}

const f1 = (x: number) => x.toFixed(1);
const f3 = (x: number) => x.toFixed(3);
const interval = (c: { low: number; high: number } | undefined) => (c ? `[${f3(c.low)}, ${f3(c.high)}]` : '');
/** `12.3 -> 14.0`, or for many workloads `11.0-15.2` (the range of every begin and end). */
function loadText(loads: [number, number][]): string {
  if (loads.length === 1) return `${f1(loads[0][0])} -> ${f1(loads[0][1])}`;
  const all = loads.flat();
  return `${f1(Math.min(...all))}-${f1(Math.max(...all))}`;
}
const grouped = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The seed's table, with the spread: per workload, each interpreter's wall time
 * (min / median / max), the median's ratio to the reference with its 95% interval,
 * and the same for user+system CPU time; then the samples summed up; then the
 * instruction counts.
 */
export function formatBenchTable(r: BenchResult): string {
  const lines: string[] = [];
  const width = Math.max(...r.interpreters.map((i) => i.label.length)) + 2;
  const perKind = (kind: string) => r.rows.filter((x) => x.kind === kind);
  for (const kind of ['pure', 'dynamic', 'startup']) {
    for (const w of [...new Set(perKind(kind).map((x) => x.workload))]) {
      const load = perKind(kind).find((x) => x.workload === w)?.load;
      lines.push(`#### ${w} ####${load ? ` (load average ${loadText([load])})` : ''}`);
      lines.push(`  ${''.padEnd(width)} ${'wall ms: min / median / max'.padStart(29)}   ratio  95% interval     ${'cpu ms (user+sys)'.padStart(17)}   ratio  95% interval`);
      for (const row of r.rows.filter((x) => x.workload === w)) {
        const wall = row.minMs !== undefined ? `${f1(row.minMs)} / ${f1(row.medianMs)} / ${f1(row.maxMs!)}` : f1(row.medianMs);
        const cpuCol = row.cpuMs !== undefined ? `${f1(row.cpuMs).padStart(17)}   ${f3(row.cpuRatio!)}  ${interval(row.cpuRatioCi)}` : '';
        lines.push(`  ${row.interpreter.padEnd(width)} ${wall.padStart(29)}   ${f3(row.ratio)}  ${interval(row.ratioCi).padEnd(16)} ${cpuCol}`);
      }
      lines.push('');
    }
  }
  const samples = perKind('sample');
  if (samples.length) {
    const names = new Set(samples.map((s) => s.workload));
    const loads = samples.flatMap((s) => (s.load ? [s.load] : []));
    lines.push(`#### every sample, launch to exit (${names.size} samples; median over samples of each sample's ratio, 95% interval over samples) ####${loads.length ? ` (load average ${loadText(loads)})` : ''}`);
    for (const interp of r.interpreters) {
      const mine = samples.filter((s) => s.interpreter === interp.label);
      const sum = mine.reduce((a, s) => a + s.medianMs, 0);
      const ratios = mine.map((s) => s.ratio);
      let line = `  ${interp.label.padEnd(width)} sum ${f1(sum).padStart(8)} ms   wall ratio ${f3(median(ratios))} ${interval(bootstrapMedian(ratios, BOOTSTRAP)).padEnd(16)}`;
      if (mine.every((s) => s.cpuRatio !== undefined)) {
        const cpuRatios = mine.map((s) => s.cpuRatio!);
        const cpuSum = mine.reduce((a, s) => a + s.cpuMs!, 0);
        line += `   cpu sum ${f1(cpuSum).padStart(8)} ms   cpu ratio ${f3(median(cpuRatios))} ${interval(bootstrapMedian(cpuRatios, BOOTSTRAP))}`;
      }
      lines.push(line);
    }
    lines.push('');
  }
  if (r.counts?.length) {
    for (const w of [...new Set(r.counts.map((c) => c.workload))]) {
      const rows = r.counts.filter((c) => c.workload === w);
      lines.push(`#### instructions under cachegrind: ${w} (${rows[0].args.length ? `args ${rows[0].args.join(' ')}` : 'no args'}) ####`);
      lines.push(`  ${''.padEnd(width)} ${'instructions'.padStart(15)}   ratio  ${'I1 misses'.padStart(11)}  ${'LL misses'.padStart(10)}  ${'branches'.padStart(13)}  ${'mispredicted'.padStart(12)}`);
      for (const c of rows) {
        const e = c.events;
        const ll = (e.ILmr ?? 0) + (e.DLmr ?? 0) + (e.DLmw ?? 0);
        lines.push(`  ${c.interpreter.padEnd(width)} ${grouped(e.Ir).padStart(15)}   ${f3(c.ratio)}  ${grouped(e.I1mr ?? 0).padStart(11)}  ${grouped(ll).padStart(10)}  ${grouped((e.Bc ?? 0) + (e.Bi ?? 0)).padStart(13)}  ${grouped((e.Bcm ?? 0) + (e.Bim ?? 0)).padStart(12)}`);
      }
      lines.push('');
    }
  }
  const sampleNote = samples.length && r.sampleReps ? `, samples ${r.sampleReps} runs after 1 warm-up` : '';
  lines.push(`ratios against ${r.reference}; ${r.reps} runs after ${r.warmups} warm-ups${sampleNote}, interleaved; intervals: 95% bootstrap of the median ratio, resampling rounds; measured ${r.measuredAt}`);
  return lines.join('\n') + '\n';
}
