/**
 * What `slime check` found, kept in the store's metadata beside the path info: the
 * tables Checks, CheckOutputs and CheckFiles of the store database (their schema is
 * at the top of src/store/db.ts). One record per `slime check` of a derivation: when,
 * how many rounds and their wall times, the verdict, and for each output the NAR hashes
 * of the rebuilds and the files that differed (cut to MAX_FILES per output), each with
 * how it differs; the last MAX_RECORDS per derivation are kept, written in one
 * transaction. diffoscope's reports are files in `.slime/checks/`. (An older slime kept
 * the records as `.slime/checks/<drv>.json`: they are imported when the store opens.)
 */
import path from 'node:path';
import { MAX_CHECKS } from './db.js';
import type { Store } from './store.js';

export const MAX_RECORDS = MAX_CHECKS;
export const MAX_FILES = 500;

export type CheckVerdict =
  /** Every round's rebuild had the stored NAR hash. */
  | 'equal'
  /** A rebuild differed and the derivation does not declare itself nondeterministic. */
  | 'differs'
  /** A rebuild differed, as the derivation declares (`nondeterministic`). */
  | 'expected-to-differ'
  /** A fetched fixed-output file was re-hashed (not re-fetched) and matches its declared hash. */
  | 'fixed-output-ok'
  /** Declared nondeterministic and not rebuilt (`--skip-declared`). */
  | 'skipped'
  /** The rebuild failed: nothing was compared. */
  | 'failed'
  /** `--against URL`: the cache's NarHash equals the local one. */
  | 'cache-equal'
  /** `--against URL`: the cache has another NarHash for this path. */
  | 'cache-differs'
  /** `--against URL`: the cache has no narinfo for this path. */
  | 'not-in-cache';

export interface OutputCheck {
  path: string;
  /** The registered NAR hash (SRI). */
  narHash: string;
  /** Each round's rebuilt NAR hash, or the cache's NarHash for `--against`. */
  rebuilt: string[];
  /** Differences found (the last differing round's), as src/check/diff-tree.ts reports them. */
  differences?: unknown[];
  /** How many differences there were beyond the ones kept. */
  differencesCut?: number;
  /** Where the differing rebuild was kept (`--keep-failed`). */
  keptAt?: string;
}

export interface CheckRecord {
  drvPath: string;
  name: string;
  /** Unix ms when the check ended. */
  time: number;
  rounds: number;
  verdict: CheckVerdict;
  /** Wall time of each round's rebuild, ms. */
  roundMs: number[];
  outputs: Record<string, OutputCheck>;
  nondeterministic?: string;
  /** `--against`: the cache URL compared with. */
  against?: string;
  /** Why the rebuild failed. */
  error?: string;
  /** diffoscope's reports (`--diffoscope`). */
  diffoscope?: { text: string; html: string }[];
}

/** The directory where reports of checks (diffoscope's) are written. */
export function checkReportsDir(store: Store): string {
  return path.join(store.stateDir, 'checks');
}

/** The recorded checks of a derivation, oldest first. */
export function checkHistory(store: Store, drvPath: string): CheckRecord[] {
  return store.db.checks(drvPath);
}

export function lastCheck(store: Store, drvPath: string): CheckRecord | undefined {
  return store.db.checks(drvPath, 1)[0];
}

export function recordCheck(store: Store, record: CheckRecord): void {
  store.db.recordCheck(record);
}
