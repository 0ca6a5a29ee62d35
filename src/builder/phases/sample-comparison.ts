/**
 * Phase of derivations/compare-samples/build.sh, read from the progress lines compare.py
 * prints on stdout (see its header for the contract):
 *
 *   slime-compare: 67 samples                   before the first run: total known
 *   slime-compare: [3/67] pass 12_singledispatch  one per sample, after both runs
 *   slime-compare: [4/67] fail 13_wraps_counter: stdout differs at line 2
 *   slime-compare: 66/67 bit-exact              the final count, as in report.txt
 *
 * Every update is `compare` with done/total/passed. `passed` is counted from the
 * per-sample lines, and the summary line, when it comes, is taken as the truth.
 * Lines compare.py writes on stderr (the details of a difference, errors) start with
 * the same prefix but match none of these shapes, so they are not counted.
 */
import type { PhaseUpdate } from './types.js';

const PREFIX = 'slime-compare: ';
const START = /^(\d+) samples$/;
const SAMPLE = /^\[(\d+)\/(\d+)\] (pass|fail) \S+/;
const SUMMARY = /^(\d+)\/(\d+) bit-exact$/;

/** A comparison update always carries the counts, so the TUI can draw `30/67, 1 failed`. */
export interface ComparisonPhaseUpdate extends PhaseUpdate {
  phase: 'compare';
  done: number;
  total: number;
  passed: number;
}

export default function sampleComparison(): (line: string) => ComparisonPhaseUpdate | undefined {
  let passed = 0;
  return (raw) => {
    const line = raw.trimEnd();
    if (!line.startsWith(PREFIX)) return undefined;
    const rest = line.slice(PREFIX.length);

    const start = START.exec(rest);
    if (start) return { phase: 'compare', done: 0, total: Number(start[1]), passed: 0 };

    const sample = SAMPLE.exec(rest);
    if (sample) {
      if (sample[3] === 'pass') passed += 1;
      return { phase: 'compare', done: Number(sample[1]), total: Number(sample[2]), passed };
    }

    const summary = SUMMARY.exec(rest);
    if (summary) {
      passed = Number(summary[1]);
      const total = Number(summary[2]);
      return { phase: 'compare', done: total, total, passed };
    }
    return undefined;
  };
}
