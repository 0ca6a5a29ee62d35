/**
 * `SLIME_TRACE_PHASES=1`: where a `slime realize` spent its time, said on stderr in one
 * line as the process exits:
 *   phases: start 32.4 ms, plan 10.1 ms, validity 4.7 ms, realize 5.9 ms, end 0.2 ms; 53.1 ms in all
 * Each phase is the time from the end of the one before to its own end:
 *   start     from the process's start (Node's own start, the launcher, the CLI bundle
 *             compiled from the code cache) to the command's; `node -e ''` is Node's part
 *   plan      the derivations of the targets: the module's plan, from the evaluation
 *             cache or evaluated (SLIME_TRACE_EVAL_CACHE=1 says which), and its graph
 *   validity  which of the graph's paths are valid: opening the store's database, one query
 *   realize   building, substituting or finding valid, the events, the log and the
 *             result links included
 *   end       the closing lines and the output paths written, the exit
 * Written to the descriptor when the process exits, not through a logger: it measures
 * the whole run, and adds nothing to a run without the variable but one test of it.
 * The clock is `process.uptime()` (since the process started, from libuv's high-resolution
 * timer), not `performance.now()`: Node 20 loads its performance timing modules on the
 * first use of the `performance` global, and that cost the traced no-op of the benchmark
 * graph 2.8 ms of wall and 3.0 ms of CPU (61 alternating rounds with and without the
 * variable, 2026-12-07), which the `graph` benchmark's no-op figure carried (its plain
 * runs are traced for the phases in its note).
 *
 * Why: a no-op realize of the benchmark's 1000-derivation graph is some 20-25 ms of
 * slime's own beside Node's start, spread over these phases (bench/README.md, "The no-op's
 * time"); where a change moves it is worth seeing outside a profiler, whose sampling
 * slows the code it measures.
 */
import fs from 'node:fs';

export type PhaseMark = (phase: 'plan' | 'validity' | 'realize') => void;

/** A mark for the end of each phase, or undefined when the variable is not set. */
export function phaseTracer(env: NodeJS.ProcessEnv): PhaseMark | undefined {
  if (env.SLIME_TRACE_PHASES !== '1') return undefined;
  const now = (): number => process.uptime() * 1000;
  const marks: [string, number][] = [['start', now()]];
  process.once('exit', () => {
    marks.push(['end', now()]);
    let before = 0;
    const parts = marks.map(([name, at]) => {
      const ms = at - before;
      before = at;
      return `${name} ${ms.toFixed(1)} ms`;
    });
    fs.writeSync(2, `phases: ${parts.join(', ')}; ${before.toFixed(1)} ms in all\n`);
  });
  return (phase) => marks.push([phase, now()]);
}
