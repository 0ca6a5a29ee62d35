/**
 * The end of a run's start-up, said by the command to the launcher (src/cli/launch.ts),
 * which then takes the run's code cache if it is to write one.
 *
 * Why: the code cache is for the next start, so it must hold the functions a start runs,
 * and a run that keeps going loses them. V8 flushes the bytecode of functions that have
 * not run for a few full garbage collections; a build allocates enough to have those
 * within its first second, and a cache taken then may have lost the start's own code.
 * Five runs of the same build of the benchmark's 1000-derivation graph, each writing the
 * cache after its first second (2026-12-07): four wrote 442,576 bytes, one 288,232; a
 * no-op with a cache of that size (from an earlier such build) took 77.9 ms against
 * 58.8-60.1 ms with three others (31 alternating rounds), and with another such cache
 * (293 KB) a no-op's start phase took 48.6 against 29.7 ms: the code a start runs was
 * not in it. `slime realize` says its start-up
 * is over once it knows it has work to do (derivations to build, fetch or substitute)
 * and has made its logger: what it ran until then, the options, the plan and the
 * validity query, is what its next run starts with, and nothing of the work has begun,
 * not even the writing of the .drv files (in those builds the first build began only
 * after the run's first second, its 1000 .drv files written before it).
 *
 * Both sides are in one process and one realm, in separate bundles (the launcher and the
 * CLI each have a copy of this module): the launcher's capture is handed over in a
 * global slot, as the hashing thread is (../nar/hash-worker.ts).
 */

const SLOT = Symbol.for('slime.code-cache-capture');
type Slot = { [SLOT]?: () => void };

/** The launcher: `capture` is to be called when the command says its start-up is over. */
export function onStartUpDone(capture: () => void): void {
  (globalThis as Slot)[SLOT] = capture;
}

/** The command: its start-up is over. Only the first call does anything; without a launcher waiting, none does. */
export function startUpDone(): void {
  const capture = (globalThis as Slot)[SLOT];
  if (capture === undefined) return;
  delete (globalThis as Slot)[SLOT];
  capture();
}
