/**
 * Instruction counts for `slime bench`: valgrind's cachegrind runs the program on a
 * simulated CPU, so its counts do not move with the load of a shared machine (the
 * hardware counters are not available here: `perf stat -e instructions:u` is "not
 * supported"). The cache and branch simulations estimate what PGO and BOLT change
 * (I1 misses: code layout; Bcm/Bim: mispredicted branches).
 *
 * The simulated caches are pinned (a common x86-64 core: 32 KiB 8-way L1s, an 8 MiB
 * 16-way last level, 64 B lines) instead of cachegrind's default of the host's own, so
 * that counts from two machines compare.
 *
 * Only the summary is read from cachegrind's output file; its grammar (the lines used):
 *
 *   file    = { line "\n" }
 *   line    = "events: " name { " " name }        the columns, e.g. Ir I1mr ILmr Dr ...
 *           | "summary: " count { " " count }     the whole run's totals, in that order
 *           | other                               desc:, cmd:, fl=, fn=, per-line counts
 */
import fs from 'node:fs';
import { SlimeError } from '../errors.js';

export const VALGRIND = '/usr/bin/valgrind';

/** Cachegrind's command line in front of the program; the counts go to `outFile`. */
export function cachegrindArgv(outFile: string): string[] {
  return [
    VALGRIND,
    '--tool=cachegrind',
    '--cache-sim=yes',
    '--branch-sim=yes',
    '--I1=32768,8,64',
    '--D1=32768,8,64',
    '--LL=8388608,16,64',
    `--cachegrind-out-file=${outFile}`,
  ];
}

/** The summary of a cachegrind output file, by event name (Ir, I1mr, ..., Bcm, Bim). */
export function parseCachegrindSummary(text: string, source: string): Record<string, number> {
  let events: string[] | undefined;
  let summary: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('events: ')) events = line.slice(8).trim().split(/\s+/);
    else if (line.startsWith('summary: ')) summary = line.slice(9).trim().split(/\s+/);
  }
  if (!events || !summary) throw new SlimeError(`${source} has no ${events ? 'summary' : 'events'}: line; cachegrind did not finish the run (see its messages above)`);
  if (events.length !== summary.length) throw new SlimeError(`${source}: ${events.length} events but ${summary.length} summary counts; not a cachegrind output file`);
  const out: Record<string, number> = {};
  events.forEach((e, i) => {
    const n = Number(summary![i]);
    if (!Number.isSafeInteger(n) || n < 0) throw new SlimeError(`${source}: the summary count of ${e} is ${JSON.stringify(summary![i])}, not a count`);
    out[e] = n;
  });
  return out;
}

export function readCachegrindSummary(file: string): Record<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SlimeError(`cachegrind wrote no ${file} (${(e as NodeJS.ErrnoException).code}); is valgrind installed (the setup installs it)?`);
  }
  return parseCachegrindSummary(text, file);
}
