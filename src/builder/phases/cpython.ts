/**
 * Phases of derivations/cpython/build.sh, read from its log.
 *
 * build.sh announces its own steps with `slime: phase NAME` lines (tar prints
 * nothing while it unpacks, so the log alone could not tell). Inside `make`,
 * an --enable-optimizations build goes through CPython's PGO targets:
 *
 *   Running code to generate profile data ...   printed first, but what follows
 *                                               is still compiling (the
 *                                               instrumented build): stays `make`
 *   ./python -m test --pgo --timeout=1200 || true
 *                                               make echoing the profile task
 *   0:00:12 load avg: 1.23 [ 5/44] test_foo     regrtest, one line per test
 *   Total duration: 2 min 3 sec                 regrtest's end
 *   slime: phase train                          pgo.sh's broader training run
 *   Rebuilding with profile guided optimizations:
 *                                               the -fprofile-use (+ LTO) rebuild
 *
 * regrtest prints `[ n/N] name` when test n starts, so n - 1 are done then.
 */
import type { PhaseUpdate } from './types.js';

const SLIME_PHASE = /^slime: phase (unpack|configure|make|train|install)$/;
const PROFILE_START = /^\s*\.\/python -m test --pgo/;
const PROFILE_TEST = /^\d+:\d\d:\d\d (?:load avg: [\d.]+ )?\[\s*(\d+)\/(\d+)\]/;
// regrtest's closing line; every test of the profile task has run.
const PROFILE_END = /^Total duration: /;
const RELINK_START = /^Rebuilding with profile guided optimizations:/;

export default function cpython(): (line: string) => PhaseUpdate | undefined {
  let total: number | undefined;
  return (line) => {
    const slime = SLIME_PHASE.exec(line);
    if (slime) return { phase: slime[1] };
    if (PROFILE_START.test(line)) return { phase: 'profile' };
    const test = PROFILE_TEST.exec(line);
    if (test) {
      total = Number(test[2]);
      return { phase: 'profile', done: Number(test[1]) - 1, total };
    }
    if (PROFILE_END.test(line) && total !== undefined) return { phase: 'profile', done: total, total };
    if (RELINK_START.test(line)) return { phase: 'lto-relink' };
    return undefined;
  };
}
