/**
 * From state to what the screen shows: rows, focus order, failure lines and the
 * split of the terminal's height. Pure, so layout decisions are tested without
 * rendering, and the components only draw what they are handed.
 */
import { describeFailure } from '../src/run/failure.js';
import { activityOf, formatDuration } from '../src/run/format.js';
import { ACTIVE_STATUSES, elapsedMs, treeRows, type DrvState, type DrvStatus, type TreeRow, type TuiState } from '../src/run/state.js';

export interface RowModel {
  readonly drvPath: string;
  /** Tree glyphs (`├─ `, `│  └─ `) in front of the name. */
  readonly prefix: string;
  readonly name: string;
  readonly status: DrvStatus;
  readonly elapsed?: string;
  readonly detail?: string;
}

export function rowModels(state: TuiState, now: number): RowModel[] {
  return treeRows(state).map((row) => {
    const { drvPath } = row;
    const d = state.derivations[drvPath]!;
    const ms = elapsedMs(d, now);
    return {
      drvPath,
      prefix: treePrefix(row),
      name: d.name,
      status: d.status,
      elapsed: ms !== undefined && d.status !== 'skipped' ? formatDuration(ms) : undefined,
      detail: detailOf(d),
    };
  });
}

/**
 * The levels of the tree a row's glyphs draw; a deeper row draws its deepest ones after
 * `… `. Drawn in full, a chain of 1000 derivations (each needing the one before) put
 * some 3000 columns of glyphs before the last names, which Ink wraps glyph by glyph:
 * the record of a no-op of the benchmark's graph took two minutes to draw.
 */
export const DRAWN_TREE_LEVELS = 12;

/** `│  ├─ ` and the like: for each level from the drawn top down, a line while that ancestor has siblings below. */
function treePrefix(row: TreeRow): string {
  if (row.up === undefined) return '';
  const levels: string[] = [row.last ? '└─ ' : '├─ '];
  let r = row.up;
  while (r.up !== undefined && levels.length < DRAWN_TREE_LEVELS) {
    levels.push(r.last ? '   ' : '│  ');
    r = r.up;
  }
  return `${r.up !== undefined ? '… ' : ''}${levels.reverse().join('')}`;
}

function detailOf(d: DrvState): string | undefined {
  if (ACTIVE_STATUSES.has(d.status)) return activityOf(d);
  switch (d.status) {
    case 'failed':
      return describeFailure(d.failure!.reason);
    case 'skipped':
      return d.skippedBecauseOf !== undefined ? 'dependency failed' : 'not attempted';
    case 'cancelled':
      return d.cancelledBecauseOf !== undefined ? 'cancelled after a failure' : 'cancelled';
    case 'not-needed':
      return 'not needed: what depends on it came from a cache';
    case 'substituted':
      return d.substitutedFrom !== undefined ? `from ${d.substitutedFrom}` : undefined;
    default:
      return d.verified !== undefined ? `${d.verified.passed}/${d.verified.total} bit-exact` : undefined;
  }
}

/** The order Tab walks: every derivation that has (or had) work of its own, in tree order. */
export function focusOrder(state: TuiState): string[] {
  return treeRows(state)
    .map((r) => state.derivations[r.drvPath]!)
    .filter((d) => d.status !== 'planned' && d.status !== 'cached' && d.status !== 'not-needed' && !(d.status === 'skipped' && d.log.total === 0))
    .map((d) => d.drvPath);
}

/**
 * Whose log to show when the user has not chosen: the first failure once the run
 * is over, otherwise the running build that started last, otherwise a failure.
 */
export function defaultFocus(state: TuiState): string | undefined {
  let latest: DrvState | undefined;
  let firstFailed: DrvState | undefined;
  for (const drvPath of state.order) {
    const d = state.derivations[drvPath]!;
    if (d.status === 'failed') firstFailed ??= d;
    if (ACTIVE_STATUSES.has(d.status) && (latest === undefined || (d.startedAt ?? 0) >= (latest.startedAt ?? 0))) latest = d;
  }
  return (state.finished ? firstFailed ?? latest : latest ?? firstFailed)?.drvPath;
}

/** Moves focus `step` places along `order`, wrapping; from no focus, Tab starts at the first. */
export function moveFocus(order: readonly string[], current: string | undefined, step: number): string | undefined {
  if (order.length === 0) return undefined;
  const at = current === undefined ? -1 : order.indexOf(current);
  if (at === -1) return step >= 0 ? order[0] : order.at(-1);
  return order[(((at + step) % order.length) + order.length) % order.length];
}

export interface FailureModel {
  readonly drvPath: string;
  readonly name: string;
  readonly status: string;
  readonly phase?: string;
  readonly logPath?: string;
}

export function failureModels(state: TuiState): FailureModel[] {
  return state.order
    .map((p) => state.derivations[p]!)
    .filter((d) => d.status === 'failed')
    .map((d) => ({
      drvPath: d.drvPath,
      name: d.name,
      status: describeFailure(d.failure!.reason),
      phase: d.failure!.phase,
      logPath: d.failure!.logPath ?? d.failure!.keptBuildDir,
    }));
}

// ---- Height: who gets the lines of a short terminal. ----

export const MAX_FAILURE_ROWS = 5;
export const MIN_LOG_LINES = 3;
export const MAX_LOG_LINES = 12;

/** Rows left out of the tree, by kind, for the one line that stands in for them. */
export interface HiddenRows {
  readonly done: number;
  readonly queued: number;
  readonly skipped: number;
  readonly failed: number;
  readonly active: number;
}

export interface Layout {
  readonly rows: readonly RowModel[];
  readonly hidden?: HiddenRows;
  readonly failureRows: number;
  readonly logLines: number;
}

/** Which rows give way first: finished-OK ones, then skipped, queued, failed; running ones last. */
const DROP_RANK: Record<DrvStatus, number> = {
  built: 0,
  substituted: 0,
  cached: 0,
  skipped: 1,
  cancelled: 1,
  'not-needed': 0,
  planned: 2,
  failed: 3,
  'lock-wait': 4,
  fetching: 4,
  building: 4,
  substituting: 4,
};

/**
 * Splits `height` lines between the tree, the failure list and the log pane, with
 * one line kept for the overall/summary line and one left free. Running builds are the last thing to
 * go: the log pane shrinks, then the failure list, before a running row is hidden;
 * finished-OK rows collapse into a count first.
 */
export function planLayout(opts: {
  height: number;
  rows: readonly RowModel[];
  failures: number;
  /** Log lines there are to show; 0 for no log pane. */
  log: number;
}): Layout {
  const { rows, failures } = opts;
  // One line for the overall line, and one because Ink redraws a frame in place
  // only while it is shorter than the terminal.
  const space = Math.max(1, opts.height - 2);
  const active = rows.filter((r) => ACTIVE_STATUSES.has(r.status)).length;
  let failureRows = Math.min(failures, MAX_FAILURE_ROWS);
  const logWanted = Math.min(opts.log, MAX_LOG_LINES);
  let logLines = Math.min(logWanted, MIN_LOG_LINES);
  const failureBlock = () => (failures === 0 ? 0 : 1 + failureRows + (failures > failureRows ? 1 : 0));
  const logBlock = () => (logLines > 0 ? 1 + logLines : 0);
  const treeSpace = () => space - failureBlock() - logBlock();
  // Room for the running rows plus the line that counts what was hidden.
  const needed = Math.min(rows.length, active + (rows.length > active ? 1 : 0));
  while (treeSpace() < needed && (logLines > 0 || failureRows > 1)) {
    if (logLines > 0) logLines--;
    else failureRows--;
  }
  const { shown, hidden } = fitRows(rows, Math.max(0, treeSpace()));
  logLines = Math.min(logWanted, logLines + Math.max(0, treeSpace() - shown.length - (hidden ? 1 : 0)));
  return { rows: shown, hidden, failureRows, logLines };
}

function fitRows(rows: readonly RowModel[], space: number): { shown: RowModel[]; hidden?: HiddenRows } {
  if (rows.length <= space) return { shown: [...rows] };
  const dropCount = rows.length - Math.max(0, space - 1);
  const victims = rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => DROP_RANK[a.row.status] - DROP_RANK[b.row.status] || b.index - a.index)
    .slice(0, dropCount);
  const dropped = new Set(victims.map((v) => v.index));
  const hidden = { done: 0, queued: 0, skipped: 0, failed: 0, active: 0 };
  for (const { row } of victims) {
    const rank = DROP_RANK[row.status];
    if (rank === 0) hidden.done++;
    else if (rank === 1) hidden.skipped++;
    else if (rank === 2) hidden.queued++;
    else if (rank === 3) hidden.failed++;
    else hidden.active++;
  }
  return { shown: rows.filter((_, i) => !dropped.has(i)), hidden };
}
