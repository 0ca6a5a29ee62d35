/**
 * Which screen the app shows and what is selected on it, and what each key does
 * there: pure, so the key map is tested without a terminal, and the help line is
 * made from the same conditions as the keys so it never lists a key that does
 * nothing.
 */
import type { Key } from 'ink';
import type { RecentRun, TargetInfo } from './backend.js';

export type Screen =
  | { readonly kind: 'targets' }
  | { readonly kind: 'run' }
  /** The recent runs of `slime run`: the tier, the router's reasons, wall time, exit status. */
  | { readonly kind: 'recent' }
  /** A derivation's full log, opened from the run view and going back to it. */
  | { readonly kind: 'log'; readonly drvPath: string; readonly name: string };

export interface AppState {
  readonly screen: Screen;
  /** Index of the selected target. */
  readonly selected: number;
  /**
   * The targets as last read, or why they could not be. Kept in the reducer rather
   * than read by the key handlers: Ink swaps in a new handler only after a frame is
   * drawn, so a key may reach the handler of the frame before the list arrived.
   */
  readonly targets?: readonly TargetInfo[];
  readonly loadError?: string;
  /** The recorded runs of `slime run`, newest first, once read; or why they could not be. */
  readonly recent?: readonly RecentRun[];
  readonly recentError?: string;
  /** The picked run, by its record (index moves when a new run is recorded above it). */
  readonly recentPicked?: string;
  /** The derivation picked in the run view; undefined follows the running build. */
  readonly focus?: string;
  /** Quitting waits for running builds to stop; the screen says so meanwhile. */
  readonly quitting: boolean;
}

export const INITIAL_STATE: AppState = { screen: { kind: 'targets' }, selected: 0, quitting: false };

export type AppAction =
  | { type: 'targets'; targets: readonly TargetInfo[] }
  | { type: 'targets-failed'; error: string }
  | { type: 'select'; by: number }
  | { type: 'show'; screen: Screen }
  | { type: 'focus'; drvPath: string | undefined }
  | { type: 'recent'; runs: readonly RecentRun[] }
  | { type: 'recent-failed'; error: string }
  | { type: 'select-recent'; by: number }
  | { type: 'quitting' };

/** Which record a run is: two runs never end in the same millisecond with the same script. */
export function recentKeyOf(r: RecentRun): string {
  return `${r.time} ${r.scriptHash}`;
}

/** The picked run's index in the list; the newest when nothing (or a run no longer listed) was picked. */
export function recentIndex(state: AppState): number {
  const at = state.recent?.findIndex((r) => recentKeyOf(r) === state.recentPicked) ?? -1;
  return Math.max(0, at);
}

export function reduceApp(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case 'targets':
      return { ...state, targets: action.targets, loadError: undefined, selected: Math.max(0, Math.min(state.selected, action.targets.length - 1)) };
    case 'targets-failed':
      return { ...state, loadError: action.error };
    case 'select':
      return { ...state, selected: Math.max(0, Math.min((state.targets?.length ?? 0) - 1, state.selected + action.by)) };
    case 'show':
      // A new run view follows its own builds, not the derivation picked in the last one.
      return { ...state, screen: action.screen, focus: action.screen.kind === 'run' && state.screen.kind === 'targets' ? undefined : state.focus };
    case 'focus':
      return { ...state, focus: action.drvPath };
    case 'recent':
      return { ...state, recent: action.runs, recentError: undefined };
    case 'recent-failed':
      return { ...state, recentError: action.error };
    case 'select-recent': {
      const runs = state.recent ?? [];
      if (runs.length === 0) return state;
      const at = Math.max(0, Math.min(runs.length - 1, recentIndex(state) + action.by));
      return { ...state, recentPicked: recentKeyOf(runs[at]!) };
    }
    case 'quitting':
      return { ...state, quitting: true };
  }
}

/** What the targets screen offers, given the run and the selected target. */
export interface TargetsContext {
  readonly running: boolean;
  readonly hasRun: boolean;
  readonly comparesSamples: boolean;
  /** The backend can run `slime check` (the `c` key). */
  readonly checks?: boolean;
  /** The backend reads the records of `slime run` (the `r` key). */
  readonly recentRuns?: boolean;
}

export type TargetsCommand =
  | { type: 'select'; by: number }
  | { type: 'realize' }
  | { type: 'compare-samples' }
  | { type: 'check' }
  | { type: 'show-run' }
  | { type: 'show-recent' }
  | { type: 'quit' };

export function targetsKey(input: string, key: Key, ctx: TargetsContext): TargetsCommand | undefined {
  if (key.upArrow || input === 'k') return { type: 'select', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'select', by: 1 };
  if (key.return && !ctx.running) return { type: 'realize' };
  if (input === 's' && ctx.comparesSamples && !ctx.running) return { type: 'compare-samples' };
  if (input === 'c' && ctx.checks === true && !ctx.running) return { type: 'check' };
  if (key.tab && ctx.hasRun) return { type: 'show-run' };
  if (input === 'r' && ctx.recentRuns === true) return { type: 'show-recent' };
  if (input === 'q') return { type: 'quit' };
  return undefined;
}

export function targetsHelp(ctx: TargetsContext): string {
  return [
    '↑↓/jk select',
    ctx.running ? undefined : 'Enter realize',
    ctx.comparesSamples && !ctx.running ? 's compare samples again' : undefined,
    ctx.checks === true && !ctx.running ? 'c rebuild & compare' : undefined,
    ctx.hasRun ? (ctx.running ? 'Tab running build' : 'Tab last run') : undefined,
    ctx.recentRuns === true ? 'r runs' : undefined,
    ctx.running ? 'q stop builds and quit' : 'q quit',
  ]
    .filter((k) => k !== undefined)
    .join(' · ');
}

export type RunCommand = { type: 'focus'; by: number } | { type: 'log' } | { type: 'back' } | { type: 'quit' };

export function runKey(input: string, key: Key): RunCommand | undefined {
  if (key.upArrow || input === 'k') return { type: 'focus', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'focus', by: 1 };
  if (input === 'l' || key.return) return { type: 'log' };
  if (key.escape || key.leftArrow) return { type: 'back' };
  if (input === 'q') return { type: 'quit' };
  return undefined;
}

export function runHelp(running: boolean): string {
  return ['↑↓/jk select derivation', 'l/Enter full log', 'Esc targets', running ? 'Ctrl-C/q stop builds and quit' : 'q quit'].join(' · ');
}

export type RecentCommand = { type: 'select'; by: number } | { type: 'back' } | { type: 'quit' };

export function recentKey(input: string, key: Key): RecentCommand | undefined {
  if (key.upArrow || input === 'k') return { type: 'select', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'select', by: 1 };
  if (key.escape || key.leftArrow || input === 'r') return { type: 'back' };
  if (input === 'q') return { type: 'quit' };
  return undefined;
}

export function recentHelp(running: boolean): string {
  return ['↑↓/jk select run', 'Esc/r targets', running ? 'q stop builds and quit' : 'q quit'].join(' · ');
}
