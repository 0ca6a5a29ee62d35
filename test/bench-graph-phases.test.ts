/**
 * The graph benchmark's note on where a no-op's time went (bench/graph.ts, phaseMedians):
 * each phase the median over the runs' `phases:` lines, as SLIME_TRACE_PHASES prints them
 * (src/cli/phase-trace.ts, whose own line test/realize-noop.test.ts checks).
 */
import { describe, expect, it } from 'vitest';
import { phaseMedians } from '../bench/graph.js';
import type { Measured } from '../bench/lib.js';

const run = (stderr: string): Measured => ({ ms: 60, rssMb: 50, cpuMs: 55, code: 0, stdout: '', stderr });

describe('phaseMedians', () => {
  it('gives the median of each phase, in the order the runs said them, the log lines around them ignored', () => {
    const runs = [
      'slime: 1000 derivations for graph: 0 to do, 1000 already valid\nslime: 0 built, 1000 cached, 0 substituted in 0.0s\nphases: start 30.0 ms, plan 9.0 ms, validity 4.0 ms, realize 6.0 ms, end 0.2 ms; 49.2 ms in all\n',
      'phases: start 34.0 ms, plan 12.0 ms, validity 5.0 ms, realize 5.0 ms, end 0.4 ms; 56.4 ms in all\n',
      'phases: start 31.0 ms, plan 10.0 ms, validity 7.0 ms, realize 8.0 ms, end 0.3 ms; 56.3 ms in all\n',
    ].map(run);
    expect(phaseMedians(runs)).toBe('start 31.0, plan 10.0, validity 5.0, realize 6.0, end 0.3 ms');
  });

  it('refuses a run that said no phases, with what it did say', () => {
    expect(() => phaseMedians([run('slime: 0 built, 1000 cached, 0 substituted in 0.0s\n')])).toThrow(/said no phases:\nslime: 0 built, 1000 cached/);
  });
});
