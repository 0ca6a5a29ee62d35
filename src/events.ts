/**
 * Everything that can happen while slime realizes a graph, as one discriminated union.
 *
 * The scheduler and the builder emit these; the plain logger, the JSON logger
 * (`--log-format json`, one event per line) and the Ink TUI only consume them.
 * Nothing that emits an event knows how it will be shown. Events are plain JSON
 * data so that the JSON log can be replayed into the TUI.
 */

import type { FileDifference } from './run/differences.js';
import type { ComparisonReport } from './comparison/report.js';

/** A derivation as the consumers need to know it: enough to draw a tree. */
export interface PlannedDerivation {
  /** The `.drv` store path: the identity of the derivation. */
  drvPath: string;
  name: string;
  /** Output paths by output name. */
  outputs: Record<string, string>;
  /** `.drv` paths of the derivations this one depends on. */
  inputs: string[];
  /** Fixed-output derivations fetch rather than build. */
  fixedOutput: boolean;
  /** Already valid in the store when the plan was made: nothing to do. */
  valid: boolean;
  /** Median duration of earlier builds of a derivation of this name, in ms. */
  expectedMs?: number;
  /** Which output recognizer reads phases from its log (`cpython`, `cargo`, `verify`). */
  phases?: string;
}

/** Why a derivation failed: data, not a message string. */
export type FailureReason =
  | { kind: 'exit'; exitCode: number | null; signal: string | null }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'hash-mismatch'; expected: string; actual: string; url?: string }
  | { kind: 'fetch'; tried: { mirror: string; error: string }[] }
  | { kind: 'no-output'; output: string }
  | { kind: 'interrupted'; signal: string }
  | { kind: 'internal'; message: string };

export type SlimeEvent =
  /** The graph was resolved: every derivation that the targets need, in build order. */
  | { type: 'planned'; time: number; targets: string[]; derivations: PlannedDerivation[] }
  /** Another process holds this derivation's lock; this one waits for it. */
  | { type: 'lock-wait'; time: number; drvPath: string; holder?: string }
  /** Work on a derivation began: a build, a fixed-output fetch, or a substitution. */
  | { type: 'started'; time: number; drvPath: string; action: 'build' | 'fetch' | 'substitute'; logPath?: string }
  /** The build entered a named phase, read from its own output (configure, make, ...). */
  | { type: 'phase'; time: number; drvPath: string; phase: string; done?: number; total?: number; passed?: number }
  /** One line the builder wrote on stdout or stderr. */
  | { type: 'log'; time: number; drvPath: string; stream: 'stdout' | 'stderr'; line: string }
  /** Bytes moved by a download or upload; `total` is absent when the server did not say. */
  | { type: 'progress'; time: number; drvPath: string; direction: 'download' | 'upload'; bytes: number; total?: number; bytesPerSecond: number; source?: string }
  /** The derivation was built and its outputs registered. */
  | { type: 'built'; time: number; drvPath: string; outputs: Record<string, string>; durationMs: number }
  /** The outputs were already valid: nothing was done. */
  | { type: 'cached'; time: number; drvPath: string; outputs: Record<string, string> }
  /** The outputs were copied from a binary cache instead of being built. */
  | { type: 'substituted'; time: number; drvPath: string; outputs: Record<string, string>; from: string; durationMs: number }
  /**
   * A binary cache could not deliver: a path (`path`, for the derivation `drvPath`) or
   * anything at all (the cache is unreachable or for another store). slime tries the
   * next cache, then builds; nothing unverified entered the store.
   */
  | { type: 'cache-warning'; time: number; cache: string; drvPath?: string; path?: string; reason: string }
  /** The derivation failed; nothing of it entered the store. */
  | { type: 'failed'; time: number; drvPath: string; reason: FailureReason; phase?: string; logPath?: string; keptBuildDir?: string }
  /** Not attempted, because a derivation it depends on failed. */
  | { type: 'skipped'; time: number; drvPath: string; becauseOf: string }
  /**
   * Stopped while running, or never started, because the run stopped: after `becauseOf`
   * failed (without `--keep-going`), or on the user's signal (no `becauseOf`). Not a
   * failure of its own; nothing of it entered the store.
   */
  | { type: 'cancelled'; time: number; drvPath: string; becauseOf?: string }
  /**
   * Not done because nothing needed it: every derivation that depends on it came from a
   * binary cache, which needs its references, not its build inputs (as Nix does not fetch
   * a substituted path's sources). Its outputs are not in the store.
   */
  | { type: 'not-needed'; time: number; drvPath: string }
  /**
   * A derivation's verification results were recorded: the whole report travels in the
   * event (the scheduler read it once), `reportPath` says where it is kept.
   */
  | { type: 'verified'; time: number; drvPath: string; passed: number; total: number; reportPath: string; report: ComparisonReport }
  /**
   * A line for the user that is about the run or the command, not one derivation: the
   * closing errors and notes of `slime realize`, or the error that stopped a command.
   * With `--log-format json` these take the place of plain `error:`/`note:` lines.
   */
  | { type: 'message'; time: number; level: 'error' | 'note'; message: string; exitCode?: number; stack?: string }
  /** `slime check`: round `round` of `rounds` of rebuilding a valid derivation began (its log: `logPath`). */
  | { type: 'check-started'; time: number; drvPath: string; round: number; rounds: number; logPath?: string; against?: string }
  /**
   * `slime check` of one derivation ended. `verdict`: equal | differs | expected-to-differ
   * (declared `nondeterministic`) | skipped (declared, not rebuilt) | fixed-output-ok | failed | cache-equal | cache-differs |
   * not-in-cache (`--against`). Each output: its registered NAR hash, each round's rebuilt
   * one (or the cache's), and the files that differ.
   */
  | {
      type: 'checked';
      time: number;
      drvPath: string;
      verdict: 'equal' | 'differs' | 'expected-to-differ' | 'skipped' | 'fixed-output-ok' | 'failed' | 'cache-equal' | 'cache-differs' | 'not-in-cache';
      rounds: number;
      roundMs: number[];
      outputs: Record<string, { path: string; narHash: string; rebuilt: string[]; differences?: FileDifference[]; differencesCut?: number; keptAt?: string }>;
      nondeterministic?: string;
      against?: string;
      error?: string;
      diffoscope?: { text: string; html: string }[];
    }
  /** The run ended. `cancelled` is absent in logs written before it existed; `notNeeded` when none was. */
  | { type: 'finished'; time: number; built: number; cached: number; substituted: number; failed: number; skipped: number; cancelled?: number; notNeeded?: number; wallMs: number; results: Record<string, Record<string, string>> };

/** Anything that consumes the event stream: a logger or the TUI. */
export interface EventSink {
  emit(event: SlimeEvent): void;
  /** Called once after `finished`; a sink may flush or unmount here. */
  close?(): Promise<void> | void;
}
