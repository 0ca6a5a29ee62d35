/**
 * Phase of derivations/cpython-tests/build.sh, read from the progress lines
 * run_tests.py prints on stdout (see its header for the contract):
 *
 *   slime-cpython-tests: 52 modules                       before the first run
 *   slime-cpython-tests: [3/52] same test_dict: passed    one per module, after both runs
 *   slime-cpython-tests: [4/52] differ test_x: python passed, isolate failed
 *   slime-cpython-tests: 51/52 same verdict               the final count, as in report.txt
 *
 * Every update is `cpython-tests` with done/total/passed, `passed` counting modules
 * with the same verdict; the summary line, when it comes, is taken as the truth.
 * Lines on stderr (details, errors) match none of these shapes.
 */
import type { PhaseUpdate } from './types.js';

const PREFIX = 'slime-cpython-tests: ';
const START = /^(\d+) modules$/;
const MODULE = /^\[(\d+)\/(\d+)\] (same|differ) \S+/;
const SUMMARY = /^(\d+)\/(\d+) same verdict$/;

export default function cpythonTests(): (line: string) => PhaseUpdate | undefined {
  let same = 0;
  return (raw) => {
    const line = raw.trimEnd();
    if (!line.startsWith(PREFIX)) return undefined;
    const rest = line.slice(PREFIX.length);
    const start = START.exec(rest);
    if (start) return { phase: 'cpython-tests', done: 0, total: Number(start[1]), passed: 0 };
    const module = MODULE.exec(rest);
    if (module) {
      if (module[3] === 'same') same += 1;
      return { phase: 'cpython-tests', done: Number(module[1]), total: Number(module[2]), passed: same };
    }
    const summary = SUMMARY.exec(rest);
    if (summary) {
      same = Number(summary[1]);
      return { phase: 'cpython-tests', done: Number(summary[2]), total: Number(summary[2]), passed: same };
    }
    return undefined;
  };
}
