/**
 * `slime bench`: the seed reports' speed comparison, in one run.
 *
 * Every workload runs under every interpreter, interleaved (the order rotates each
 * round, so a slow moment of the machine does not land on one interpreter), with
 * warm-up runs discarded, and the median kept. Ratios are against the reference
 * interpreter (Debian's python3.11) measured in the same run.
 *
 * Timings are impure: they are kept with a timestamp in `<store>/.slime/bench/`,
 * never as store outputs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';
import { writeFileAtomic, type Store } from '../store/store.js';

export interface Interpreter {
  label: string;
  command: string;
}

export interface Workload {
  name: string;
  /** Group in the printed table: `startup`, `pure`, `dynamic`, `sample`. */
  kind: string;
  script: string;
  args: string[];
  cwd: string;
}

export interface BenchRow {
  workload: string;
  kind: string;
  interpreter: string;
  medianMs: number;
  /** Median of this interpreter over the reference's median. */
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
}

const ENV = { PYTHONHASHSEED: '0', LC_ALL: 'C', TZ: 'UTC', PATH: '/usr/bin:/bin' };

/** Wall time of one launch-to-exit run, in ms (some samples exit non-zero on purpose). */
function timeRun(interp: Interpreter, w: Workload): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(interp.command, [w.script, ...w.args], { cwd: w.cwd, env: ENV, stdio: 'ignore' });
    child.on('error', (e) => reject(new SlimeError(`cannot run ${interp.command}: ${e.message}`)));
    child.on('close', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function runBench(opts: {
  target: string;
  interpreters: Interpreter[];
  workloads: Workload[];
  warmups: number;
  reps: number;
  onProgress?: (done: number, total: number, workload: string) => void;
}): Promise<BenchResult> {
  const { interpreters, workloads, warmups, reps } = opts;
  const rows: BenchRow[] = [];
  let done = 0;
  for (const w of workloads) {
    const samples = new Map<string, number[]>(interpreters.map((i) => [i.label, []]));
    for (let round = 0; round < warmups + reps; round++) {
      const order = interpreters.map((_, k) => interpreters[(k + round) % interpreters.length]);
      for (const interp of order) {
        const ms = await timeRun(interp, w);
        if (round >= warmups) samples.get(interp.label)!.push(ms);
      }
    }
    const ref = median(samples.get(interpreters[0].label)!);
    for (const interp of interpreters) {
      const m = median(samples.get(interp.label)!);
      rows.push({ workload: w.name, kind: w.kind, interpreter: interp.label, medianMs: m, ratio: m / ref });
    }
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
  };
}

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

/** The seed's table: per workload, each interpreter's median and its ratio to the reference. */
export function formatBenchTable(r: BenchResult): string {
  const lines: string[] = [];
  const width = Math.max(...r.interpreters.map((i) => i.label.length)) + 2;
  const perKind = (kind: string) => r.rows.filter((x) => x.kind === kind);
  for (const kind of ['startup', 'pure', 'dynamic']) {
    for (const w of [...new Set(perKind(kind).map((x) => x.workload))]) {
      lines.push(`#### ${w} ####`);
      for (const row of r.rows.filter((x) => x.workload === w)) {
        lines.push(`  ${row.interpreter.padEnd(width)} ${row.medianMs.toFixed(1).padStart(9)} ms   ${row.ratio.toFixed(3)}`);
      }
      lines.push('');
    }
  }
  const samples = perKind('sample');
  if (samples.length) {
    lines.push(`#### every sample, launch to exit (${new Set(samples.map((s) => s.workload)).size} samples) ####`);
    for (const interp of r.interpreters) {
      const mine = samples.filter((s) => s.interpreter === interp.label);
      const sum = mine.reduce((a, s) => a + s.medianMs, 0);
      lines.push(`  ${interp.label.padEnd(width)} sum ${sum.toFixed(1).padStart(8)} ms   median ratio ${median(mine.map((s) => s.ratio)).toFixed(3)}`);
    }
    lines.push('');
  }
  lines.push(`ratios against ${r.reference}; median of ${r.reps} runs after ${r.warmups} warm-ups; measured ${r.measuredAt}`);
  return lines.join('\n') + '\n';
}
