/**
 * The model of a run, folded from the event stream by a pure reducer.
 *
 * No React and no terminal here: the plain logger, the TUI and tests share it, and a
 * JSON event log replays into exactly the state the live run had. `src/run/` imports
 * only `src/events.ts` (types) and itself; `tui/` imports it, never the reverse.
 */
import type { FailureReason, PlannedDerivation, SlimeEvent } from '../events.js';
import { EMPTY_TAIL, appendInPlace, appendLine, type LogTail, type MutableLogTail } from './log-tail.js';

export type DrvStatus =
  | 'planned'
  | 'lock-wait'
  | 'fetching'
  | 'building'
  | 'substituting'
  | 'built'
  | 'substituted'
  | 'cached'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'not-needed';

export const ACTIVE_STATUSES: ReadonlySet<DrvStatus> = new Set(['lock-wait', 'fetching', 'building', 'substituting']);
export const FINISHED_STATUSES: ReadonlySet<DrvStatus> = new Set(['built', 'substituted', 'cached', 'failed', 'skipped', 'cancelled', 'not-needed']);

export interface Transfer {
  readonly bytes: number;
  readonly total?: number;
  readonly bytesPerSecond: number;
  readonly source?: string;
}

export interface PhaseState {
  readonly name: string;
  readonly done?: number;
  readonly total?: number;
  readonly passed?: number;
}

export interface FailureState {
  readonly reason: FailureReason;
  readonly phase?: string;
  readonly logPath?: string;
  readonly keptBuildDir?: string;
}

export interface DrvState {
  readonly drvPath: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly fixedOutput: boolean;
  readonly expectedMs?: number;
  /** Which recognizer reads its phases (`cargo` counts crates, ...). */
  readonly recognizer?: string;
  readonly status: DrvStatus;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly phase?: PhaseState;
  readonly log: LogTail;
  readonly logPath?: string;
  readonly download?: Transfer;
  readonly upload?: Transfer;
  readonly lockHolder?: string;
  readonly substitutedFrom?: string;
  readonly failure?: FailureState;
  /** The failed dependency; absent when the run ended before this was attempted. */
  readonly skippedBecauseOf?: string;
  /** The failure that stopped the run, for a cancelled derivation; absent after the user's signal. */
  readonly cancelledBecauseOf?: string;
  readonly verified?: { readonly passed: number; readonly total: number; readonly reportPath: string };
}

export interface RunSummary {
  readonly built: number;
  readonly cached: number;
  readonly substituted: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  readonly notNeeded: number;
  readonly wallMs: number;
}

export interface TuiState {
  readonly startedAt: number;
  /** Time of the newest event: the clock of a replayed log. */
  readonly lastEventAt: number;
  readonly targets: readonly string[];
  /** Planned order (dependencies first), then any path first seen in a later event. */
  readonly order: readonly string[];
  readonly derivations: Readonly<Record<string, DrvState>>;
  /** Derivations that recorded verification results, in the order they did. */
  readonly verifiedOrder: readonly string[];
  readonly finished?: RunSummary;
  /** Lines kept per derivation. */
  readonly logCapacity: number;
}

export const DEFAULT_LOG_CAPACITY = 200;

export function initialState(now: number, opts: { logCapacity?: number } = {}): TuiState {
  return {
    startedAt: now,
    lastEventAt: now,
    targets: [],
    order: [],
    derivations: {},
    verifiedOrder: [],
    logCapacity: Math.max(1, opts.logCapacity ?? DEFAULT_LOG_CAPACITY),
  };
}

export function reduce(state: TuiState, event: SlimeEvent): TuiState {
  return reduceAll(state, [event]);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<TuiState> & { derivations: Record<string, DrvState> };

/**
 * Folds a batch of events; equal to folding them one by one with `reduce`.
 *
 * The state is copied once per batch and each touched derivation once per batch,
 * so a batch of thousands of log lines costs no more than the lines themselves.
 * Nothing reachable from the argument is mutated.
 */
export function reduceAll(state: TuiState, events: readonly SlimeEvent[]): TuiState {
  if (events.length === 0) return state;
  const batch = new Batch(state);
  for (const event of events) batch.apply(event);
  return batch.finish();
}

/**
 * A fold kept open while events arrive, closed when a consumer wants the state:
 * the live TUI applies each event as it comes (so it can be dropped at once, young)
 * and takes the state once a frame. What `finish` returns is immutable from then on.
 */
export class Batch {
  private readonly next: Draft;
  private readonly copied = new Set<string>();
  private orderCopied = false;
  private finished = false;
  private lastPath: string | undefined;
  private lastDraft: Mutable<DrvState> | undefined;
  /**
   * Log tails created by this batch, by derivation: not yet visible outside it, so they
   * grow in place. Found by the line's derivation, whichever build wrote the line before
   * (builds running side by side interleave theirs).
   */
  private readonly ownedTails: OwnedTails = new Map();

  constructor(state: TuiState) {
    this.next = { ...state, derivations: { ...state.derivations } };
  }

  apply(event: SlimeEvent): void {
    if (this.finished) throw new Error('Batch.apply after finish');
    if (event.time > this.next.lastEventAt) this.next.lastEventAt = event.time;
    if (event.type === 'log') {
      // The hot path, in front of the reducer's switch: another line for a build whose
      // tail this batch already made (the reducer's own lookup then serves cache warnings
      // and first lines). Going through the switch for every line cost ~9 % more CPU, the
      // fold and the benchmark's driver together (14 alternating rounds at 50,000 lines/s,
      // median 222.8 against 204.4 ms).
      const tail = this.ownedTails.get(event.drvPath);
      if (tail !== undefined) {
        appendInPlace(tail, event.stream, event.line, this.next.logCapacity);
        return;
      }
    }
    apply(this.next, event, this.drv, this.ownedTails);
  }

  finish(): TuiState {
    this.finished = true;
    return this.next;
  }

  /**
   * The state so far, without closing the fold: for a consumer that reads the model
   * after every event (the plain logger). It changes in place with the next `apply`,
   * so it must not be kept; in exchange an event costs O(1) (a `planned` or
   * `finished` O(derivations)), where `reduce` per event copies the whole map.
   */
  peek(): TuiState {
    return this.next;
  }

  private readonly drv = (drvPath: string, name?: string): Mutable<DrvState> => {
    // Output comes in runs of lines from one build: skip the lookups for those.
    if (drvPath === this.lastPath) return this.lastDraft!;
    const draft = this.draftOf(drvPath, name);
    this.lastPath = drvPath;
    this.lastDraft = draft;
    return draft;
  };

  /** `name`: the plan's, when the event carries it (else read from the path). */
  private draftOf(drvPath: string, name?: string): Mutable<DrvState> {
    const next = this.next;
    const existing = next.derivations[drvPath];
    if (existing === undefined) {
      if (!this.orderCopied) {
        next.order = [...next.order];
        this.orderCopied = true;
      }
      (next.order as string[]).push(drvPath);
      const created: Mutable<DrvState> = {
        drvPath,
        name: name ?? nameFromDrvPath(drvPath),
        inputs: [],
        fixedOutput: false,
        status: 'planned',
        log: EMPTY_TAIL,
      };
      next.derivations[drvPath] = created;
      this.copied.add(drvPath);
      return created;
    }
    if (this.copied.has(drvPath)) return existing as Mutable<DrvState>;
    const copy = { ...existing };
    next.derivations[drvPath] = copy;
    this.copied.add(drvPath);
    return copy;
  }
}

/** The tails a batch made, by derivation: only `log` lines (a cache warning is one) set a derivation's tail. */
type OwnedTails = Map<string, MutableLogTail>;

function apply(
  state: Draft,
  event: SlimeEvent,
  drv: (drvPath: string, name?: string) => Mutable<DrvState>,
  ownedTails: OwnedTails,
): void {
  switch (event.type) {
    case 'planned': {
      state.targets = [...new Set([...state.targets, ...event.targets])];
      for (const planned of event.derivations) plan(drv(planned.drvPath, planned.name), planned);
      return;
    }
    case 'lock-wait': {
      const d = drv(event.drvPath);
      d.status = 'lock-wait';
      d.lockHolder = event.holder;
      d.startedAt ??= event.time;
      return;
    }
    case 'started': {
      const d = drv(event.drvPath);
      d.status = event.action === 'build' ? 'building' : event.action === 'fetch' ? 'fetching' : 'substituting';
      // Waiting for another process's lock is not this derivation's work: time it from here.
      d.startedAt = event.time;
      d.endedAt = undefined;
      // A new attempt (a build after a failed substitution, say) owes nothing to the last one.
      d.phase = undefined;
      d.download = undefined;
      d.upload = undefined;
      d.failure = undefined;
      d.logPath = event.logPath ?? d.logPath;
      return;
    }
    case 'phase': {
      const d = drv(event.drvPath);
      d.phase = { name: event.phase, done: event.done, total: event.total, passed: event.passed };
      if (d.status === 'planned' || d.status === 'lock-wait') {
        d.status = 'building';
        d.startedAt = event.time;
      }
      return;
    }
    case 'log': {
      // A line for a build whose tail this batch already made (Batch.apply appends log
      // lines so before the switch; what comes here is a cache warning or a first line).
      const owned = ownedTails.get(event.drvPath);
      if (owned !== undefined) {
        appendInPlace(owned, event.stream, event.line, state.logCapacity);
      } else {
        const d = drv(event.drvPath);
        const tail = appendLine(d.log, event.stream, event.line, state.logCapacity);
        d.log = tail;
        ownedTails.set(event.drvPath, tail);
      }
      return;
    }
    case 'progress': {
      const d = drv(event.drvPath);
      const transfer: Transfer = {
        bytes: event.bytes,
        total: event.total,
        bytesPerSecond: event.bytesPerSecond,
        source: event.source,
      };
      if (event.direction === 'download') d.download = transfer;
      else d.upload = transfer;
      return;
    }
    case 'built': {
      const d = drv(event.drvPath);
      finish(d, 'built', event.time, event.durationMs);
      return;
    }
    case 'cached': {
      const d = drv(event.drvPath);
      d.status = 'cached';
      d.endedAt = event.time;
      return;
    }
    case 'substituted': {
      const d = drv(event.drvPath);
      finish(d, 'substituted', event.time, event.durationMs);
      d.substitutedFrom = event.from;
      return;
    }
    case 'cache-warning': {
      // Shown where the derivation's output is: the log pane of the TUI.
      if (event.drvPath === undefined) return;
      const line = `warning: cache ${event.cache}${event.path !== undefined ? ` (${event.path})` : ''}: ${event.reason}`;
      apply(state, { type: 'log', time: event.time, drvPath: event.drvPath, stream: 'stderr', line }, drv, ownedTails);
      return;
    }
    case 'failed': {
      const d = drv(event.drvPath);
      d.status = 'failed';
      d.endedAt = event.time;
      d.startedAt ??= event.time;
      d.failure = {
        reason: event.reason,
        phase: event.phase ?? d.phase?.name,
        logPath: event.logPath ?? d.logPath,
        keptBuildDir: event.keptBuildDir,
      };
      return;
    }
    case 'skipped': {
      const d = drv(event.drvPath);
      d.status = 'skipped';
      d.endedAt = event.time;
      d.skippedBecauseOf = event.becauseOf;
      return;
    }
    case 'cancelled': {
      const d = drv(event.drvPath);
      d.status = 'cancelled';
      d.endedAt = event.time;
      d.cancelledBecauseOf = event.becauseOf;
      return;
    }
    case 'not-needed': {
      const d = drv(event.drvPath);
      d.status = 'not-needed';
      d.endedAt = event.time;
      return;
    }
    case 'verified': {
      const d = drv(event.drvPath);
      d.verified = { passed: event.passed, total: event.total, reportPath: event.reportPath };
      if (!state.verifiedOrder.includes(event.drvPath)) state.verifiedOrder = [...state.verifiedOrder, event.drvPath];
      return;
    }
    case 'check-started': {
      // `slime check` (the `c` key): a valid derivation is being built again.
      const d = drv(event.drvPath);
      d.status = 'building';
      d.startedAt = event.time;
      d.endedAt = undefined;
      d.phase = undefined;
      d.failure = undefined;
      d.logPath = event.logPath ?? d.logPath;
      return;
    }
    case 'checked': {
      const d = drv(event.drvPath);
      const files = Object.values(event.outputs).reduce((n, o) => n + (o.differences?.length ?? 0) + (o.differencesCut ?? 0), 0);
      if (event.verdict === 'differs' || event.verdict === 'cache-differs' || event.verdict === 'failed') {
        d.status = 'failed';
        d.endedAt = event.time;
        d.failure = { reason: { kind: 'internal', message: event.error ?? `not reproducible: ${files} file${files === 1 ? '' : 's'} differ` }, logPath: d.logPath };
      } else {
        finish(d, 'built', event.time, event.roundMs.reduce((a, b) => a + b, 0));
      }
      return;
    }
    case 'finished': {
      state.finished = {
        built: event.built,
        cached: event.cached,
        substituted: event.substituted,
        failed: event.failed,
        skipped: event.skipped,
        cancelled: event.cancelled ?? 0,
        notNeeded: event.notNeeded ?? 0,
        wallMs: event.wallMs,
      };
      // Once the run is over nothing may still look like it is running or about to.
      for (const drvPath of state.order) {
        const current = state.derivations[drvPath]!;
        if (FINISHED_STATUSES.has(current.status)) continue;
        const d = drv(drvPath);
        d.status = 'cancelled';
        d.endedAt = event.time;
      }
      return;
    }
  }
}

function plan(d: Mutable<DrvState>, planned: PlannedDerivation): void {
  d.name = planned.name;
  d.inputs = planned.inputs;
  d.fixedOutput = planned.fixedOutput;
  d.expectedMs = planned.expectedMs;
  d.recognizer = planned.phases;
  if (planned.valid && d.status === 'planned') d.status = 'cached';
}

function finish(d: Mutable<DrvState>, status: 'built' | 'substituted', time: number, durationMs: number): void {
  d.status = status;
  d.endedAt = time;
  d.startedAt = time - durationMs;
}

/** `/store/<hash>-cpython-3.11.2.drv` → `cpython-3.11.2`: a name for paths the plan never mentioned. */
export function nameFromDrvPath(drvPath: string): string {
  const base = drvPath.slice(drvPath.lastIndexOf('/') + 1).replace(/\.drv$/, '');
  const dash = base.indexOf('-');
  return dash >= 16 && /^[0-9a-z]+$/.test(base.slice(0, dash)) ? base.slice(dash + 1) : base;
}

// ---- Selectors: derived values the views need, computed from state and a clock. ----

export interface Counts {
  readonly total: number;
  readonly finished: number;
  readonly built: number;
  readonly cached: number;
  readonly substituted: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  readonly notNeeded: number;
  readonly active: number;
  readonly planned: number;
}

export function counts(state: TuiState): Counts {
  const c = { total: 0, finished: 0, built: 0, cached: 0, substituted: 0, failed: 0, skipped: 0, cancelled: 0, notNeeded: 0, active: 0, planned: 0 };
  for (const drvPath of state.order) {
    const { status } = state.derivations[drvPath]!;
    c.total++;
    if (FINISHED_STATUSES.has(status)) c.finished++;
    if (ACTIVE_STATUSES.has(status)) c.active++;
    else if (status === 'not-needed') c.notNeeded++;
    else c[status as Exclude<DrvStatus, 'lock-wait' | 'fetching' | 'building' | 'substituting' | 'not-needed'>]++;
  }
  return c;
}

export function isActive(d: DrvState): boolean {
  return ACTIVE_STATUSES.has(d.status);
}

export function elapsedMs(d: DrvState, now: number): number | undefined {
  if (d.startedAt === undefined || d.status === 'cached') return undefined;
  return Math.max(0, (d.endedAt ?? now) - d.startedAt);
}

export function wallMs(state: TuiState, now: number): number {
  return state.finished?.wallMs ?? Math.max(0, now - state.startedAt);
}

export interface Eta {
  readonly ms: number;
  /** Unfinished derivations with no earlier build to predict from: the ETA is a lower bound. */
  readonly unknown: number;
}

/**
 * Expected time still to go: the expected durations of everything not finished,
 * less what the running ones have already spent (never below zero each, as an
 * overrunning build says nothing about the others). Undefined when nothing unfinished
 * has a prediction, or the run is over.
 */
export function eta(state: TuiState, now: number): Eta | undefined {
  if (state.finished) return undefined;
  let ms = 0;
  let unknown = 0;
  let known = 0;
  for (const drvPath of state.order) {
    const d = state.derivations[drvPath]!;
    if (FINISHED_STATUSES.has(d.status)) continue;
    if (d.expectedMs === undefined) {
      unknown++;
      continue;
    }
    known++;
    const spent = d.status !== 'lock-wait' && isActive(d) && d.startedAt !== undefined ? now - d.startedAt : 0;
    ms += Math.max(0, d.expectedMs - spent);
  }
  return known === 0 ? undefined : { ms, unknown };
}

export interface TreeRow {
  readonly drvPath: string;
  readonly depth: number;
  /** Whether it is the last of its parent's children (the tree draws `└─`, and no `│` below it). */
  readonly last: boolean;
  /** The row it hangs under; undefined for a root. The tree's glyphs are read up this chain. */
  readonly up: TreeRow | undefined;
}

/**
 * The derivations as a tree rooted at the targets, children being inputs.
 * The graph is a DAG: a derivation is drawn under the first parent that reaches
 * it, once, so the row count equals the derivation count.
 *
 * Walked with a stack of its own, not recursion, and each row links to its parent
 * rather than carrying its ancestors: a chain of derivations is as deep as it is long
 * (the benchmark's graph: 1000 levels), which recursion may not reach the bottom of,
 * and copied ancestor lists grow with the square of the depth.
 */
export function treeRows(state: TuiState): TreeRow[] {
  const rows: TreeRow[] = [];
  const seen = new Set<string>();
  const claimed = (path: string) => state.derivations[path] !== undefined && !seen.has(path);
  const stack: { row: TreeRow; children: string[]; next: number }[] = [];
  const enter = (drvPath: string, up: TreeRow | undefined, last: boolean): void => {
    seen.add(drvPath);
    const row: TreeRow = { drvPath, depth: up === undefined ? 0 : up.depth + 1, last, up };
    rows.push(row);
    const children = state.derivations[drvPath]!.inputs.filter(claimed);
    // Mark all children as seen before descending so siblings stay siblings.
    const mine = children.filter((c, i) => children.indexOf(c) === i);
    for (const c of mine) seen.add(c);
    stack.push({ row, children: mine, next: 0 });
  };
  const walk = (root: string): void => {
    enter(root, undefined, true);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.children.length) {
        stack.pop();
        continue;
      }
      const i = top.next++;
      const child = top.children[i]!;
      seen.delete(child);
      enter(child, top.row, i === top.children.length - 1);
    }
  };
  for (const root of roots(state)) if (!seen.has(root)) walk(root);
  // Anything no target reaches (events for paths outside the plan) still gets a row.
  for (const drvPath of state.order) if (!seen.has(drvPath)) walk(drvPath);
  return rows;
}

/** Targets may be named by `.drv` path or by name; without any, the derivations nothing depends on. */
function roots(state: TuiState): string[] {
  const byName = new Map<string, string>();
  for (const drvPath of state.order) byName.set(state.derivations[drvPath]!.name, drvPath);
  const fromTargets = state.targets
    .map((t) => (state.derivations[t] !== undefined ? t : byName.get(t)))
    .filter((p): p is string => p !== undefined);
  if (fromTargets.length > 0) return fromTargets;
  const depended = new Set(state.order.flatMap((p) => state.derivations[p]!.inputs));
  return state.order.filter((p) => !depended.has(p));
}
