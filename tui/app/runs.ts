/**
 * The realize the app runs in-process: at most one at a time, held outside React
 * so that a quit (a key, or a signal arriving outside any component) can stop it
 * and wait for its builds to end before the terminal is given back.
 *
 * Events fold into the same TuiStore the `slime realize` view uses, published on
 * the same terms as there: no faster than FRAME_MS, spaced so that drawing stays
 * within RENDER_BUDGET of a core (a full-screen frame costs milliseconds, and the
 * build shares the machine), and once a second while anything runs so elapsed
 * times move.
 */
import type { SlimeEvent } from '../../src/events.js';
import { FRAME_MS, RENDER_BUDGET, TuiStore } from '../realize-view.js';
import { counts } from '../state.js';
import type { Backend, RunOutcome } from './backend.js';

const TICK_MS = 1000;
const MAX_FRAME_GAP_MS = 1000;

export type RunKind = 'realize' | 'verify';

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
    let lastFrame = 0;
    let nextFrame = 0;
    let frameCpuMs = 0;
    const timer = setInterval(() => {
      const now = this.clock();
      const ticking = counts(store.getSnapshot().state).active > 0 && now - lastFrame >= TICK_MS;
      if (performance.now() < nextFrame || (!store.dirty && !ticking)) return;
      lastFrame = now;
      const start = performance.now();
      const cpu = process.cpuUsage();
      store.publish(now);
      // React renders and Ink draws in microtasks queued by publish(): this one runs after them.
      queueMicrotask(() => {
        const used = process.cpuUsage(cpu);
        const ms = (used.user + used.system) / 1000;
        frameCpuMs = frameCpuMs === 0 ? ms : 0.7 * frameCpuMs + 0.3 * ms;
        nextFrame = start + Math.min(MAX_FRAME_GAP_MS, Math.max(FRAME_MS, frameCpuMs / RENDER_BUDGET)) - FRAME_MS / 2;
      });
    }, FRAME_MS);
    const events = { emit: (e: SlimeEvent) => store.push(e) };
    const work = kind === 'verify' ? this.backend.rerunVerification(target, events, abort.signal) : this.backend.realize(target, events, abort.signal);
    this.done = work.then(
      (outcome) => this.end(timer, { outcome }),
      (e: unknown) => this.end(timer, { error: e instanceof Error ? e.message : String(e) }),
    );
    return this.done;
  }

  /** Stops the active run's builds, and resolves once they have ended. */
  stop(): Promise<void> {
    if (this.current?.active) this.abort?.abort();
    return this.done;
  }

  private end(timer: NodeJS.Timeout, result: { outcome?: RunOutcome; error?: string }): void {
    clearInterval(timer);
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
