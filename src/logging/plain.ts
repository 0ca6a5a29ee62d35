/**
 * Plain text progress for CI logs and pipes: one line per thing that happened,
 * prefixed with the derivation's name, no ANSI escapes and no cursor movement.
 *
 * Build output is not echoed (a quiet run stays readable) except the tail of a
 * failed build's log, or everything with `verbose`. This module must not import
 * ink or react, even indirectly: starting without a TTY has to stay fast.
 *
 * Its cost is O(events): the run model is one fold kept open (`Batch.peek`), not
 * a `reduce` per event, which copies the map of every derivation each time (a no-op
 * realize of a 1000-derivation graph spent ~600 ms there).
 */
import type { EventSink, SlimeEvent } from '../events.js';
import { flushed } from './json.js';
import { describeFailure } from '../run/failure.js';
import { formatBytes, formatDuration, formatPhase, formatTransfer, plural, stripControl } from '../run/format.js';
import { appendInPlace, EMPTY_TAIL, lastLines, type MutableLogTail } from '../run/log-tail.js';
import { Batch, elapsedMs, initialState, type DrvState, type TuiState } from '../run/state.js';

/** Lines of a failed build's log printed with its failure. */
export const FAILURE_TAIL_LINES = 25;
/** A long download says how far it got this often, so a CI log shows it is alive. */
export const PROGRESS_EVERY_MS = 10_000;

export interface PlainOptions {
  /** Every build line as it comes and the already-valid derivations too (`-v`). */
  verbose?: boolean;
  /** Every build line as it comes (`-L`, Nix's --print-build-logs). */
  printBuildLogs?: boolean;
  /** Failures only (`--quiet`): no progress, no summary. */
  quiet?: boolean;
}

export function plainLogger(out: NodeJS.WritableStream, opts: PlainOptions = {}): EventSink {
  const verbose = opts.verbose ?? false;
  const echo = verbose || (opts.printBuildLogs ?? false);
  const quiet = opts.quiet ?? false;
  const model = new Batch(initialState(Date.now()));
  let state: TuiState = model.peek();
  /**
   * Events the model has not yet been given: a plan, a run's end, a message. What this
   * logger says of them needs no model, and a no-op is only these and `cached` events:
   * for the 1000-derivation graph, giving the model its plan was 2 ms of a 60 ms no-op.
   * Given, in order, before any event that needs the model.
   */
  const unapplied: SlimeEvent[] = [];
  const current = (): TuiState => {
    if (unapplied.length > 0) {
      for (const e of unapplied) model.apply(e);
      unapplied.length = 0;
      state = model.peek();
    }
    return state;
  };
  const tails = new Map<string, MutableLogTail>();
  /** When each derivation's transfer was last reported, by `drvPath` and direction. */
  const progressSaid = new Map<string, number>();
  const write = (line: string) => out.write(`${stripControl(line)}\n`);
  const say = (d: DrvState, text: string) => write(`[${d.name}] ${text}`);

  return {
    emit(event: SlimeEvent): void {
      if (event.type === 'log') {
        // The hot path: a tail per derivation is all a quiet log needs, so the
        // reducer (which copies the state per call) is not involved.
        if (echo) {
          write(`[${nameOf(current(), event.drvPath)}] ${event.line}`);
          return;
        }
        let tail = tails.get(event.drvPath);
        if (tail === undefined) tails.set(event.drvPath, (tail = { ...EMPTY_TAIL }));
        appendInPlace(tail, event.stream, event.line, FAILURE_TAIL_LINES);
        return;
      }
      if (event.type === 'cache-warning') {
        const where = event.drvPath !== undefined ? `[${nameOf(current(), event.drvPath)}] ` : '';
        write(`${where}warning: cache ${event.cache}${event.path !== undefined ? ` (${event.path})` : ''}: ${event.reason}`);
        return;
      }
      if (event.type === 'cached') {
        // Nothing this logger says reads what the reducer would record (a status and a
        // time): its line needs only the name. A no-op of the 1000-derivation graph is
        // 1000 of these.
        if (verbose && !quiet) write(`[${nameOf(current(), event.drvPath)}] already valid`);
        return;
      }
      let phaseBefore: string | undefined;
      if (event.type === 'planned' || event.type === 'finished' || event.type === 'message') {
        unapplied.push(event);
      } else {
        // The model changes in place: what the phase was must be read before applying.
        phaseBefore = current().derivations[event.drvPath]?.phase?.name;
        model.apply(event);
        state = model.peek();
      }
      if (!quiet || event.type === 'failed' || (event.type === 'message' && event.level === 'error')) describe(event, phaseBefore);
      if (event.type === 'built' || event.type === 'substituted' || event.type === 'failed') tails.delete(event.drvPath);
    },
    close: () => flushed(out),
  };

  function describe(event: Exclude<SlimeEvent, { type: 'log' | 'cache-warning' }>, phaseBefore: string | undefined): void {
    if (event.type === 'planned') {
      let valid = 0;
      for (const d of event.derivations) if (d.valid) valid++;
      // A target is a name, or a .drv path that the plan names.
      const named = (t: string) => event.derivations.find((d) => d.drvPath === t)?.name ?? t;
      write(`slime: ${plural(event.derivations.length, 'derivation')} for ${event.targets.map(named).join(', ')}: ${event.derivations.length - valid} to do, ${valid} already valid`);
      return;
    }
    if (event.type === 'finished') {
      const failed = event.failed > 0 ? `, ${event.failed} failed, ${event.skipped} skipped` : '';
      const cancelled = (event.cancelled ?? 0) > 0 ? `, ${event.cancelled} cancelled` : '';
      const notNeeded = (event.notNeeded ?? 0) > 0 ? `, ${event.notNeeded} not needed` : '';
      write(`slime: ${event.built} built, ${event.cached} cached, ${event.substituted} substituted${failed}${cancelled}${notNeeded} in ${formatDuration(event.wallMs)}`);
      return;
    }
    if (event.type === 'message') {
      write(`${event.level}: ${event.message}`);
      return;
    }
    const d = state.derivations[event.drvPath]!;
    switch (event.type) {
      case 'lock-wait':
        say(d, event.holder !== undefined ? `waiting for lock held by ${event.holder}` : 'waiting for lock');
        return;
      case 'started': {
        const verb = event.action === 'build' ? 'building' : event.action === 'fetch' ? 'fetching' : 'substituting';
        say(d, event.logPath !== undefined ? `${verb} (log: ${event.logPath})` : verb);
        return;
      }
      case 'phase':
        // Counters tick many times per phase; a line per tick would drown the log.
        if (phaseBefore !== event.phase) say(d, formatPhase({ name: event.phase }));
        return;
      case 'progress': {
        const key = `${event.drvPath} ${event.direction}`;
        const said = progressSaid.get(key);
        if (said === undefined) {
          // The clock starts at the first report: a short transfer prints nothing.
          progressSaid.set(key, event.time);
        } else if (event.time - said >= PROGRESS_EVERY_MS) {
          progressSaid.set(key, event.time);
          say(d, formatTransfer(event.direction, event));
        }
        return;
      }
      case 'built': {
        const size = d.download !== undefined ? `, ${formatBytes(d.download.bytes)}` : '';
        say(d, `${d.fixedOutput ? 'fetched' : 'built'} in ${formatDuration(event.durationMs)}${size}`);
        return;
      }
      case 'substituted':
        say(d, `substituted from ${event.from} in ${formatDuration(event.durationMs)}`);
        return;
      case 'failed': {
        const f = d.failure!;
        const where = f.phase !== undefined ? ` in ${f.phase}` : '';
        // A timeout already says how long it ran.
        const after = f.reason.kind === 'timeout' ? undefined : elapsedMs(d, event.time);
        say(d, `FAILED (${describeFailure(f.reason)})${where}${after !== undefined ? ` after ${formatDuration(after)}` : ''}`);
        if (!echo) for (const line of lastLines(tails.get(d.drvPath) ?? EMPTY_TAIL, FAILURE_TAIL_LINES)) say(d, `| ${line.text}`);
        if (f.logPath !== undefined) say(d, `full log: ${f.logPath}`);
        if (f.keptBuildDir !== undefined) say(d, `build directory kept: ${f.keptBuildDir}`);
        return;
      }
      case 'skipped':
        say(d, `skipped: ${nameOf(state, event.becauseOf)} failed`);
        return;
      case 'cancelled':
        say(d, event.becauseOf !== undefined ? `cancelled: ${nameOf(state, event.becauseOf)} failed` : 'cancelled');
        return;
      case 'not-needed':
        say(d, 'not needed: what depends on it came from a cache');
        return;
      case 'check-started':
        if (event.against !== undefined) return;
        say(d, `checking: rebuild ${event.round}/${event.rounds}${event.logPath !== undefined ? ` (log: ${event.logPath})` : ''}`);
        return;
      case 'checked': {
        const files = Object.values(event.outputs).reduce((n, o) => n + (o.differences?.length ?? 0) + (o.differencesCut ?? 0), 0);
        const what = event.verdict === 'differs' || event.verdict === 'expected-to-differ' ? ` (${files} file${files === 1 ? '' : 's'})` : '';
        say(d, `check: ${event.verdict.replace(/-/g, ' ')}${what}${event.roundMs.length ? ` in ${event.roundMs.map(formatDuration).join(', ')}` : ''}${event.error !== undefined ? `: ${event.error}` : ''}`);
        return;
      }
      case 'verified':
        say(d, `compared ${event.passed}/${event.total}${event.passed === event.total ? ' bit-exact' : ''} (report: ${event.reportPath})`);
        return;
    }
  }
}

function nameOf(state: TuiState, drvPath: string): string {
  return state.derivations[drvPath]?.name ?? drvPath;
}
