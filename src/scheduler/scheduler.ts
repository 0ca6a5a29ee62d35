/**
 * Realizes a planned graph: dependencies first, independent derivations in parallel
 * (p-queue, `-j N`), each under its own lock so that concurrent slime processes on one
 * store build each derivation once. A failure skips its dependents; without
 * `--keep-going` it also cancels the builds still running, as Nix does.
 *
 * Everything the scheduler does is announced as a SlimeEvent; it prints nothing.
 */
import PQueue from 'p-queue';
import path from 'node:path';
import { BuildFailure, failedReportPath, realizeDerivation, type BuildResult } from '../builder/realize-derivation.js';
import type { EventSink } from '../events.js';
import { addSource } from '../store/add.js';
import type { Store } from '../store/store.js';
import { plannedEvent, writeDrvFiles, type GraphNode } from './plan.js';

/**
 * Thrown by `mayAdd` when the run, started without the gc lock because everything was
 * valid, finds that a gc ran meanwhile: the caller runs again under the lock.
 */
export class GcRaceError extends Error {
  constructor() {
    super('a gc ran while this run held no lock');
    this.name = 'GcRaceError';
  }
}

export interface RealizeOptions {
  store: Store;
  events: EventSink;
  targets: string[];
  /** The derivations whose outputs the run is for. */
  roots: string[];
  jobs: number;
  cores: number;
  keepGoing: boolean;
  keepFailed: boolean;
  timeoutMs?: number;
  /** Run builders in the build sandbox (src/builder/sandbox.ts); by default as SLIME_SANDBOX says, else on (Linux). */
  sandbox?: boolean;
  /** Aborting ends every build; the reason, a signal name (`SIGHUP`), is what the builds report. */
  signal: AbortSignal;
  /**
   * Awaited before the run adds anything to the store (a `.drv`, a source, a build):
   * the caller takes the gc lock shared there, so a run that only finds valid paths
   * takes no lock. May throw GcRaceError.
   */
  mayAdd?: () => Promise<void>;
}

export interface RealizeSummary {
  built: number;
  cached: number;
  substituted: number;
  failed: BuildFailureRecord[];
  skipped: number;
  /** Outputs of the roots that were realized. */
  results: Record<string, Record<string, string>>;
  /** mayAdd threw GcRaceError: nothing of this summary counts; run again under the lock. */
  raced?: boolean;
}

export interface BuildFailureRecord {
  drvPath: string;
  name: string;
  failure: BuildFailure;
}

export async function realizeGraph(nodes: GraphNode[], opts: RealizeOptions): Promise<RealizeSummary> {
  const { store, events } = opts;
  const began = Date.now();
  if (!nodes.every((n) => store.isValid(n.drvPath))) {
    try {
      await opts.mayAdd?.();
    } catch (e) {
      if (e instanceof GcRaceError) return { built: 0, cached: 0, substituted: 0, failed: [], skipped: 0, results: {}, raced: true };
      throw e;
    }
  }
  await writeDrvFiles(nodes, store);
  events.emit({ type: 'planned', time: Date.now(), targets: opts.targets, derivations: plannedEvent(nodes, store) });

  const run = new GraphRun(nodes, opts);
  await run.start();

  const summary = run.summary();
  if (summary.raced) return summary;
  events.emit({
    type: 'finished',
    time: Date.now(),
    built: summary.built,
    cached: summary.cached,
    substituted: summary.substituted,
    failed: summary.failed.length,
    skipped: summary.skipped,
    wallMs: Date.now() - began,
    results: summary.results,
  });
  return summary;
}

class GraphRun {
  private readonly byDrv = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, string[]>();
  private readonly waitingOn = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly queue: PQueue;
  private readonly cancel = new AbortController();
  private readonly counts = { built: 0, cached: 0, substituted: 0, skipped: 0 };
  private readonly failures: BuildFailureRecord[] = [];
  private readonly results: Record<string, Record<string, string>> = {};

  constructor(
    private readonly nodes: GraphNode[],
    private readonly opts: RealizeOptions,
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.jobs) });
    for (const n of nodes) {
      this.byDrv.set(n.drvPath, n);
      this.waitingOn.set(n.drvPath, n.inputs.length);
      for (const i of n.inputs) this.dependents.set(i, [...(this.dependents.get(i) ?? []), n.drvPath]);
    }
    opts.signal.addEventListener('abort', () => this.cancel.abort(opts.signal.reason), { once: true });
  }

  async start(): Promise<void> {
    for (const n of this.nodes) if (n.inputs.length === 0) this.enqueue(n);
    await this.queue.onIdle();
    if (this.raced) return;
    for (const n of this.nodes) {
      if (!this.finished.has(n.drvPath)) this.skip(n.drvPath, this.failures[0]?.drvPath ?? n.drvPath);
    }
  }

  private raced = false;

  summary(): RealizeSummary {
    return { ...this.counts, failed: this.failures, results: this.results, ...(this.raced ? { raced: true } : {}) };
  }

  private enqueue(n: GraphNode): void {
    void this.queue.add(() => this.realize(n));
  }

  private async realize(n: GraphNode): Promise<void> {
    if (this.cancel.signal.aborted) return;
    const emit = this.opts.events.emit.bind(this.opts.events);
    const { store } = this.opts;
    try {
      if (!store.allValid(n.sources.map((s) => s.storePath)) || !store.allValid(Object.values(n.outputs))) await this.opts.mayAdd?.();
      for (const s of n.sources) await addSource(this.opts.store, s.localPath, s.storePath);
      const result = await realizeDerivation(
        { drvPath: n.drvPath, name: n.name, drv: n.drv, inputPaths: n.inputPaths, phases: n.phases, timeoutMs: n.timeoutMs },
        {
          store: this.opts.store,
          emit,
          cores: this.opts.cores,
          keepFailed: this.opts.keepFailed,
          signal: this.cancel.signal,
          timeoutMs: this.opts.timeoutMs,
          sandbox: this.opts.sandbox,
        },
      );
      await this.succeeded(n, result);
    } catch (e) {
      if (e instanceof GcRaceError) {
        this.raced = true;
        this.queue.clear();
        this.cancel.abort();
        return;
      }
      await this.failed(n, e);
    }
  }

  private async succeeded(n: GraphNode, result: BuildResult): Promise<void> {
    const time = Date.now();
    if (result.action === 'cached') {
      this.counts.cached++;
      this.opts.events.emit({ type: 'cached', time, drvPath: n.drvPath, outputs: result.outputs });
    } else {
      this.counts.built++;
      this.opts.events.emit({ type: 'built', time, drvPath: n.drvPath, outputs: result.outputs, durationMs: result.durationMs });
    }
    if (n.phases === 'verify') await this.announceVerification(n);
    if (this.opts.roots.includes(n.drvPath)) this.results[n.drvPath] = result.outputs;
    this.finished.add(n.drvPath);
    for (const d of this.dependents.get(n.drvPath) ?? []) {
      const left = this.waitingOn.get(d)! - 1;
      this.waitingOn.set(d, left);
      if (left === 0) this.enqueue(this.byDrv.get(d)!);
    }
  }

  private async announceVerification(n: GraphNode, reportPath = path.join(n.outputs.out, 'report.json')): Promise<void> {
    try {
      const { readReport } = await import('../verify/report.js');
      const report = await readReport(reportPath);
      this.opts.events.emit({ type: 'verified', time: Date.now(), drvPath: n.drvPath, passed: report.passed, total: report.total, reportPath });
    } catch {
      // A verification derivation without a readable report is shown as an ordinary build.
    }
  }

  private async failed(n: GraphNode, e: unknown): Promise<void> {
    const failure = e instanceof BuildFailure ? e : new BuildFailure({ kind: 'internal', message: (e as Error).message ?? String(e) });
    this.failures.push({ drvPath: n.drvPath, name: n.name, failure });
    this.finished.add(n.drvPath);
    this.opts.events.emit({
      type: 'failed',
      time: Date.now(),
      drvPath: n.drvPath,
      reason: failure.reason,
      phase: failure.phase,
      logPath: failure.logPath,
      keptBuildDir: failure.keptBuildDir,
    });
    if (n.phases === 'verify' && failure.logPath) await this.announceVerification(n, failedReportPath(failure.logPath));
    this.skipDependents(n.drvPath, n.drvPath);
    if (!this.opts.keepGoing) {
      this.queue.clear();
      this.cancel.abort();
    }
  }

  private skipDependents(drvPath: string, becauseOf: string): void {
    for (const d of this.dependents.get(drvPath) ?? []) {
      if (this.finished.has(d)) continue;
      this.skip(d, becauseOf);
      this.skipDependents(d, becauseOf);
    }
  }

  private skip(drvPath: string, becauseOf: string): void {
    this.finished.add(drvPath);
    this.counts.skipped++;
    this.opts.events.emit({ type: 'skipped', time: Date.now(), drvPath, becauseOf });
  }
}
