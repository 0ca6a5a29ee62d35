/**
 * The realize the app runs in-process: at most one at a time, held outside React
 * so that a quit (a key, or a signal arriving outside any component) can stop it
 * and wait for its builds to end before the terminal is given back.
 *
 * Events fold into the same TuiStore the `slime realize` view uses, and frames
 * are published on the same CPU-budgeted terms (paceFrames): a full-screen frame
 * costs milliseconds, and the build shares the machine.
 */
import type { SlimeEvent } from '../../src/events.js';
import { paceFrames, TuiStore } from '../realize-view.js';
import type { Backend, RunOutcome } from './backend.js';

export type RunKind = 'realize' | 'compare-samples' | 'check';

export interface Run {
  readonly target: string;
  readonly kind: RunKind;
  readonly store: TuiStore;
  readonly active: boolean;
  /** Set when the run is over: how it ended, or the error that ended it. */
  readonly outcome?: RunOutcome;
  readonly error?: string;
}

export class Runs {
  private current: Run | undefined;
  private abort: AbortController | undefined;
  private done: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly backend: Backend,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts a run unless one is active; the returned promise settles when it ends. */
  start(target: string, kind: RunKind): Promise<void> {
    if (this.current?.active) return this.done;
    const store = new TuiStore(this.clock());
    const abort = new AbortController();
    this.abort = abort;
    this.set({ target, kind, store, active: true });
    const stopFrames = paceFrames(store, this.clock);
    const events = { emit: (e: SlimeEvent) => store.push(e) };
    const work =
      kind === 'compare-samples'
        ? this.backend.rerunSampleComparison(target, events, abort.signal)
        : kind === 'check' && this.backend.check !== undefined
          ? this.backend.check(target, events, abort.signal)
          : this.backend.realize(target, events, abort.signal);
    this.done = work.then(
      (outcome) => this.end(stopFrames, { outcome }),
      (e: unknown) => this.end(stopFrames, { error: e instanceof Error ? e.message : String(e) }),
    );
    return this.done;
  }

  /** Stops the active run's builds (`reason`: the signal they report), and resolves once they have ended. */
  stop(reason?: string): Promise<void> {
    if (this.current?.active) this.abort?.abort(reason);
    return this.done;
  }

  private end(stopFrames: () => void, result: { outcome?: RunOutcome; error?: string }): void {
    stopFrames();
    const run = this.current!;
    run.store.publish(this.clock());
    this.set({ ...run, ...result, active: false });
  }

  private set(run: Run): void {
    this.current = run;
    for (const listener of this.listeners) listener();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): Run | undefined => this.current;
}
