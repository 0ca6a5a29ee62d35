/**
 * What the interactive app needs from slime, as an interface: the CLI command
 * implements it over a real store and derivation module, and component tests hand
 * in a stand-in, so the app's screens are exercised without building anything.
 */
import type { EventSink } from '../../src/events.js';
import type { BenchRow } from '../components/BenchPanel.js';
import type { ComparisonReport } from '../components/Results.js';

export interface TargetInfo {
  readonly name: string;
  readonly description: string;
  readonly state: 'realized' | 'partly' | 'not yet';
  /** Derivations of the target's closure whose outputs are valid, of all. */
  readonly valid: number;
  readonly total: number;
  /** The target compares samples (a `comparesSamples` derivation), so `s` can run that again. */
  readonly comparesSamples: boolean;
  /** The latest sample comparison's report: of the valid output, or the one a failed run left. */
  readonly report?: ComparisonReport;
  /** The reports of the target's other sample comparisons (the Light tier has one per runner). */
  readonly moreReports?: readonly ComparisonReport[];
  /** Why a report that exists could not be read. */
  readonly reportError?: string;
  /** What the latest `slime check` of the target's derivations found, in words, and whether all was reproducible. */
  readonly checked?: { readonly verdict: 'equal' | 'differs' | 'failed'; readonly summary: string };
  /** The latest `slime bench` of the target. */
  readonly bench?: { readonly measuredAt: string; readonly reference: string; readonly rows: readonly BenchRow[] };
}

/**
 * One run of `slime run`, as the store recorded it (`src/store/run-records.ts`): the
 * tier the router picked and why, how long the script ran and how it ended.
 */
export interface RecentRun {
  /** When the run ended, ms since the epoch. */
  readonly time: number;
  /** The script as the user would name it: relative to the working directory when inside it. */
  readonly script: string;
  readonly scriptHash: string;
  readonly tier: 'full' | 'light';
  readonly requested: 'auto' | 'full' | 'light';
  /** The router's reasons, in its words: `needs-full` and `prefers-full` sent the script to Full. */
  readonly reasons: readonly { readonly kind: string; readonly effect: string; readonly detail: string; readonly line?: number }[];
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly budgetMs: number;
}

export interface RunOutcome {
  readonly failed: number;
  readonly interrupted: boolean;
}

export interface Backend {
  /** Where the targets come from, for the header. */
  readonly moduleName: string;
  readonly storeDir: string;
  /** Read afresh each time: a run, or another slime process, may have changed the store. */
  targets(): Promise<TargetInfo[]>;
  realize(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome>;
  /** Realizes the target's sample comparison again, its output removed first. */
  rerunSampleComparison(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome>;
  logFile(drvPath: string): string;
  /** The runs of `slime run` recorded in the store, newest first (the `r` key). */
  recentRuns?(): Promise<readonly RecentRun[]>;
  /** Calls `onChange` whenever a run is recorded (by any process); returns the unsubscribe. */
  watchRecentRuns?(onChange: () => void): () => void;
  /** `slime check` of the target: builds its derivations again and compares (the `c` key). */
  check?(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome>;
}
