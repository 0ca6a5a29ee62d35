/**
 * What the interactive app needs from slime, as an interface: the CLI command
 * implements it over a real store and derivation module, and component tests hand
 * in a stand-in, so the app's screens are exercised without building anything.
 */
import type { EventSink } from '../../src/events.js';
import type { BenchRow } from '../components/BenchPanel.js';
import type { VerifyReport } from '../components/Results.js';

export interface TargetInfo {
  readonly name: string;
  readonly description: string;
  readonly state: 'realized' | 'partly' | 'not yet';
  /** Derivations of the target's closure whose outputs are valid, of all. */
  readonly valid: number;
  readonly total: number;
  /** The target has a verification step, so `v` can run it again. */
  readonly verifies: boolean;
  /** The latest verification report: of the valid output, or the one a failed run left. */
  readonly report?: VerifyReport;
  /** The reports of the target's other verifications (the Light tier has one per runner). */
  readonly moreReports?: readonly VerifyReport[];
  /** Why a report that exists could not be read. */
  readonly reportError?: string;
  /** What the latest `slime check` of the target's derivations found, in words, and whether all was reproducible. */
  readonly checked?: { readonly verdict: 'equal' | 'differs' | 'failed'; readonly summary: string };
  /** The latest `slime bench` of the target. */
  readonly bench?: { readonly measuredAt: string; readonly reference: string; readonly rows: readonly BenchRow[] };
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
  /** Realizes the target's verification step again, its output removed first. */
  rerunVerification(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome>;
  logFile(drvPath: string): string;
  /** `slime check` of the target: builds its derivations again and compares (the `c` key). */
  check?(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome>;
}
