/**
 * The live TUI of `slime realize`: an EventSink that folds events into state and
 * renders the state with Ink, within a CPU budget.
 *
 * Events arrive far faster than a terminal can usefully change (a noisy build
 * writes tens of thousands of lines a second), so `emit` only folds the event into
 * the state and frames are drawn on a timer. Ink redraws the whole frame character
 * by character (a frame of 40 lines costs ~4 ms of CPU once warm with the patches
 * tui/README.md describes, ~10 ms without, several times that while the JIT is
 * cold), so a fixed frame rate would take a noticeable share
 * of a core from the build: instead each frame's CPU time is measured and the next
 * one waits until drawing stays under RENDER_BUDGET of one core, never closer than
 * FRAME_MS and never further apart than MAX_FRAME_GAP_MS, and a frame is drawn at
 * least once a second while something runs so elapsed times keep moving.
 */
import { render, Static, useInput, useStdin, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { EventSink, SlimeEvent } from '../src/events.js';
import { RealizeView, RunRecord } from './components/RealizeView.js';
import type { ComparisonReport } from './components/Results.js';
import { Summary } from './components/Summary.js';
import { Batch, counts, initialState, type TuiState } from '../src/run/state.js';
import { defaultFocus, focusOrder, MAX_LOG_LINES, moveFocus } from './view-model.js';

/** The fastest frame rate, ~12 a second: smooth to the eye. */
export const FRAME_MS = 80;
/** Share of one core drawing may take; the TUI must not slow the build it shows. */
export const RENDER_BUDGET = 0.01;
const MAX_FRAME_GAP_MS = 1000;
const TICK_MS = 1000;

export interface Snapshot {
  readonly state: TuiState;
  readonly now: number;
  readonly reports: Readonly<Record<string, ComparisonReport>>;
  /** The last snapshot: the run is over and every report is in. */
  readonly closed: boolean;
}

/**
 * Holds the state outside React; components read published snapshots only.
 * Each event is folded as it arrives, into a batch that publishing closes, so no
 * event outlives its `emit` call and a producer that never yields costs no memory.
 */
export class TuiStore {
  private state: TuiState;
  private batch: Batch | undefined;
  private reports: Record<string, ComparisonReport> = {};
  private snapshot: Snapshot;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  /** Something changed since the last snapshot. */
  dirty = false;

  constructor(now: number) {
    // A tail as long as the pane can show, no longer: at 50,000 lines a second the lines
    // kept alive are what the young generation's collections copy, and 200 a build
    // (the reducer's default) made the fold cost twice what it does with 12 (tui/README.md).
    this.state = initialState(now, { logCapacity: MAX_LOG_LINES });
    this.snapshot = { state: this.state, now, reports: this.reports, closed: false };
  }

  push(event: SlimeEvent): void {
    (this.batch ??= new Batch(this.state)).apply(event);
    this.dirty = true;
  }

  addReport(drvPath: string, report: ComparisonReport): void {
    this.reports = { ...this.reports, [drvPath]: report };
    this.dirty = true;
  }

  /** Makes everything pushed so far visible to the components. */
  publish(now: number): void {
    if (this.batch !== undefined) {
      this.state = this.batch.finish();
      this.batch = undefined;
    }
    this.dirty = false;
    this.snapshot = { state: this.state, now, reports: this.reports, closed: this.closed };
    for (const listener of this.listeners) listener();
  }

  /** Publishes the last snapshot: nothing more will come. */
  close(now: number): void {
    this.closed = true;
    this.publish(now);
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): Snapshot => this.snapshot;
}

const HINT = 'Tab/→ next · ←/⇧Tab previous · Esc follow';

/** Stays in step with the terminal's size; `fixed` overrides it (tests, fixed-size replays). */
function useTerminalSize(fixed: { width?: number; height?: number }): { width: number; height: number } {
  const { stdout } = useStdout();
  const [size, setSize] = useState({ width: stdout.columns ?? 80, height: stdout.rows ?? 24 });
  useEffect(() => {
    const onResize = () => setSize({ width: stdout.columns ?? 80, height: stdout.rows ?? 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return { width: fixed.width ?? size.width, height: fixed.height ?? size.height };
}

export interface RealizeAppProps {
  store: TuiStore;
  width?: number;
  height?: number;
  /** What Ctrl+C does while the terminal is in raw mode and sends no SIGINT itself. */
  onInterrupt?: () => void;
}

export function RealizeApp({ store, width, height, onInterrupt }: RealizeAppProps) {
  const { state, now, reports, closed } = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const size = useTerminalSize({ width, height });
  // Undefined follows the default focus; Tab pins a derivation until Esc.
  const [pinned, setPinned] = useState<string | undefined>(undefined);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') {
        onInterrupt?.();
        return;
      }
      if (key.escape) {
        setPinned(undefined);
        return;
      }
      const step = (key.tab && key.shift) || key.leftArrow || key.upArrow ? -1 : key.tab || key.rightArrow || key.downArrow ? 1 : 0;
      if (step === 0) return;
      // Keys can arrive faster than renders: read the newest focus and state, not this render's.
      setPinned((current) => {
        const latest = store.getSnapshot().state;
        return moveFocus(focusOrder(latest), current ?? defaultFocus(latest), step);
      });
    },
    { isActive: isRawModeSupported === true },
  );
  if (closed && state.finished !== undefined) {
    // The record of the run may be taller than the terminal, and Ink clears the
    // screen, scrollback included, to redraw a frame that tall: it goes above the
    // live frame once, as static text. The summary stays the live frame and comes
    // last, because Ink writes an empty live frame as a blank line.
    return (
      <>
        <Static items={[state.finished]}>
          {(_, i) => <RunRecord key={i} state={state} now={now} width={size.width} focus={pinned} reports={reports} />}
        </Static>
        <Summary summary={state.finished} />
      </>
    );
  }
  return (
    <RealizeView
      state={state}
      now={now}
      width={size.width}
      height={size.height}
      focus={pinned}
      hint={isRawModeSupported === true && state.finished === undefined ? HINT : undefined}
    />
  );
}

/**
 * Publishes `store` on the terms described at the top of this file; returns a
 * function that stops. For every live view of a run (`slime realize`, `slime tui`).
 */
export function paceFrames(store: TuiStore, clock: () => number): () => void {
  let lastFrame = 0;
  let nextFrame = 0;
  let frameCpuMs = 0;
  const timer = setInterval(() => {
    const now = clock();
    const ticking = counts(store.getSnapshot().state).active > 0 && now - lastFrame >= TICK_MS;
    if (performance.now() < nextFrame || (!store.dirty && !ticking)) return;
    lastFrame = now;
    const start = performance.now();
    const cpu = process.cpuUsage();
    store.publish(now);
    // React renders in a microtask queued by publish(), and Ink draws in its commit:
    // a microtask queued now runs after both. CPU time, not wall time, so that a
    // busy machine preempting us does not pass for an expensive frame.
    queueMicrotask(() => {
      const used = process.cpuUsage(cpu);
      const ms = (used.user + used.system) / 1000;
      // Smoothed, or one cold first frame would space out the next several.
      frameCpuMs = frameCpuMs === 0 ? ms : 0.7 * frameCpuMs + 0.3 * ms;
      nextFrame = start + Math.min(MAX_FRAME_GAP_MS, Math.max(FRAME_MS, frameCpuMs / RENDER_BUDGET)) - FRAME_MS / 2;
    });
  }, FRAME_MS);
  // A forgotten stop must not keep the process alive.
  timer.unref();
  return () => clearInterval(timer);
}

export interface StartTuiOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Wall clock; a replay passes the events' clock. */
  clock?: () => number;
  /**
   * Route `console.*` above the live frame (default), so a stray message cannot
   * garble it. Off for hosts that replace `console` themselves, as test runners do.
   */
  patchConsole?: boolean;
}

export function startTui(opts: StartTuiOptions = {}): EventSink {
  const clock = opts.clock ?? Date.now;
  const store = new TuiStore(clock());
  const instance = render(
    <RealizeApp store={store} onInterrupt={() => process.kill(process.pid, 'SIGINT')} />,
    {
      stdout: opts.stdout ?? process.stdout,
      stdin: opts.stdin ?? process.stdin,
      exitOnCtrlC: false,
      patchConsole: opts.patchConsole ?? true,
      // paceFrames spaces the frames; Ink must draw each commit at once, not defer it.
      maxFps: 1000,
    },
  );
  const stopFrames = paceFrames(store, clock);

  return {
    emit(event: SlimeEvent): void {
      store.push(event);
      // The event carries the report; a log written before it did leaves the one-line summary.
      if (event.type === 'verified' && event.report !== undefined) store.addReport(event.drvPath, event.report);
    },
    async close(): Promise<void> {
      stopFrames();
      store.close(clock());
      // React renders the published state in a microtask; unmounting first would
      // leave the last frame drawn before it on the screen.
      await new Promise((resolve) => setImmediate(resolve));
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
