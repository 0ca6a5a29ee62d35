/**
 * Realizes a planned graph: dependencies first, independent derivations in parallel
 * (p-queue, `-j N`), each under its own lock so that concurrent slime processes on one
 * store build each derivation once. A failure skips its dependents; without
 * `--keep-going` it also cancels the builds still running, as Nix does.
 *
 * Every planned derivation ends in exactly one of: built, cached (valid, whether
 * found so at the start or reached after a failure), failed (the first failure, and
 * any that fail on their own before the cancellation reaches them), skipped (a
 * dependency failed), cancelled (stopped or never started because the run stopped:
 * after a failure without `--keep-going`, or on the user's signal).
 *
 * With binary caches, the run first asks them for every output it may need, and then
 * does only what the roots need, as Nix does: a derivation whose outputs some cache
 * has is substituted as soon as the answers are in, without waiting for its inputs,
 * and its inputs are not needed at all (a substitute needs its references, which the
 * substituter fetches first, not the build's inputs: the source tarball and the
 * vendored crates of a substituted CPython and isolate are never fetched); the
 * derivations that produce those references are needed instead. If no cache
 * delivers, the derivation's inputs become needed after all, and it waits for them
 * and is built as usual. The same rule without caches: a valid derivation needs
 * nothing, so its build-only inputs, when absent (substituted earlier, or collected),
 * are not built again. A derivation no needed one depended on ends `not-needed`.
 * So a whole build comes from a cache in parallel rather than in build order.
 * Substitutions ahead take no build slot: they run SUBSTITUTION_JOBS at once
 * (downloads and restores are I/O; `-j` counts builds), the biggest NAR first, since
 * it ends last.
 *
 * Everything the scheduler does is announced as a SlimeEvent; it prints nothing.
 */
import PQueue from 'p-queue';
import path from 'node:path';
// The builder and what it imports load only when something is built or substituted: a no-op loads none.
import type { BuildResult } from '../builder/realize-derivation.js';
import type { CachedPath, Substituter } from '../cache/substituter.js';
import { BuildFailure } from '../errors.js';
import type { EventSink } from '../events.js';
import { sourceEntries } from '../derivation/sources.js';
import type { Store } from '../store/store.js';
import { outputsValid, pathsOf, plannedEvent, writeDrvFiles, type GraphNode } from './plan.js';

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
  /** Binary caches to substitute from before building. */
  substituter?: Substituter;
  /**
   * Awaited before the run adds anything to the store (a `.drv`, a source, a build):
   * the caller takes the gc lock shared there, so a run that only finds valid paths
   * takes no lock. May throw GcRaceError.
   */
  mayAdd?: () => Promise<void>;
  /** The valid paths among pathsOf(nodes), when the caller has just asked (Store.validSet): not asked again. */
  valid?: Set<string>;
}

export interface RealizeSummary {
  built: number;
  cached: number;
  substituted: number;
  /** In the order they failed: the first is what the exit code reports. */
  failed: BuildFailureRecord[];
  skipped: number;
  cancelled: number;
  /** Derivations the roots did not need: what depended on them came from a cache. */
  notNeeded: number;
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
  let valid = opts.valid ?? store.validSet(pathsOf(nodes));
  if (!nodes.every((n) => valid.has(n.drvPath))) {
    try {
      await opts.mayAdd?.();
    } catch (e) {
      if (e instanceof GcRaceError) return { built: 0, cached: 0, substituted: 0, cancelled: 0, notNeeded: 0, failed: [], skipped: 0, results: {}, raced: true };
      throw e;
    }
    valid = store.validSet(pathsOf(nodes));
  }
  await writeDrvFiles(nodes, store, valid);
  const planned = plannedEvent(nodes, store, valid);
  events.emit({ type: 'planned', time: Date.now(), targets: opts.targets, derivations: planned });

  let summary: RealizeSummary;
  if (planned.every((d) => d.valid) && nodes.every((n) => n.comparesSamples !== true)) {
    summary = finishAllCached(nodes, opts);
  } else {
    const available = opts.substituter ? prefetchNarInfos(nodes, opts) : undefined;
    const run = new GraphRun(nodes, opts, valid);
    try {
      await run.start(available);
    } finally {
      // The sandbox keeps its directories from one build to the next; not past the run.
      (await import('../builder/sandbox.js')).releaseSandboxDirs();
    }
    summary = run.summary();
    if (summary.raced) return summary;
  }
  events.emit({
    type: 'finished',
    time: Date.now(),
    built: summary.built,
    cached: summary.cached,
    substituted: summary.substituted,
    failed: summary.failed.length,
    skipped: summary.skipped,
    cancelled: summary.cancelled,
    ...(summary.notNeeded > 0 ? { notNeeded: summary.notNeeded } : {}),
    wallMs: Date.now() - began,
    results: summary.results,
  });
  return summary;
}

/**
 * A no-op: every output valid, and no derivation that compares samples (which runs its
 * verification even when valid). Each derivation ends cached, in plan order (dependencies
 * first), without the run's maps, queues and walk: for the 1000-derivation graph the
 * walk took some 4-5 ms more than this loop with its events (a timeline of the no-op).
 */
function finishAllCached(nodes: GraphNode[], opts: RealizeOptions): RealizeSummary {
  // Valid outputs are results even in a run stopped by a signal, as in the walk.
  const results: Record<string, Record<string, string>> = {};
  const roots = new Set(opts.roots);
  for (const n of nodes) {
    opts.events.emit({ type: 'cached', time: Date.now(), drvPath: n.drvPath, outputs: n.outputs });
    if (roots.has(n.drvPath)) results[n.drvPath] = n.outputs;
  }
  return { built: 0, cached: nodes.length, substituted: 0, failed: [], skipped: 0, cancelled: 0, notNeeded: 0, results };
}

/**
 * Asks every cache for every output the run may need, in parallel, before the first
 * build starts; resolves to the outputs some cache has, with their NAR sizes and references.
 */
function prefetchNarInfos(nodes: GraphNode[], opts: RealizeOptions): Promise<Map<string, CachedPath>> | undefined {
  const wanted = nodes.flatMap((n) => Object.values(n.outputs)).filter((p) => !opts.store.isValid(p));
  if (wanted.length === 0) return undefined;
  return opts.substituter!.prefetch(wanted, (cache, path, reason) =>
    opts.events.emit({ type: 'cache-warning', time: Date.now(), cache, path, reason }),
  );
}

/** Substitutions ahead of their inputs at once: Nix's max-substitution-jobs default. */
export const SUBSTITUTION_JOBS = 16;

class GraphRun {
  private readonly byDrv = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, string[]>();
  private readonly waitingOn = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly queue: PQueue;
  /** Substitutions ahead of their inputs: no build slot. */
  private readonly substitutions = new PQueue({ concurrency: SUBSTITUTION_JOBS });
  private readonly cancel = new AbortController();
  private readonly counts = { built: 0, cached: 0, substituted: 0, skipped: 0, cancelled: 0, notNeeded: 0 };
  /** Output path -> the derivation that makes it: a narinfo's references lead to derivations. */
  private readonly makerOf = new Map<string, string>();
  /** What the caches have (asked before the run starts); empty without caches. */
  private found = new Map<string, CachedPath>();
  /** The derivations the roots need; undefined (all of them) in a no-op. */
  private needed: Set<string> | undefined;
  /** Substituted ahead without success: built after all, from their inputs. */
  private readonly failedAhead = new Set<string>();
  /** Why the run stopped early; unset while it runs to its end. */
  private stopped: { by: 'signal'; signal: string } | { by: 'failure'; drvPath: string } | undefined;
  private readonly failures: BuildFailureRecord[] = [];
  private readonly results: Record<string, Record<string, string>> = {};

  constructor(
    private readonly nodes: GraphNode[],
    private readonly opts: RealizeOptions,
    /** Paths valid when the run began (Store.validSet); validity only grows while a run goes on. */
    private readonly validAtStart: Set<string> = new Set(),
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.jobs) });
    for (const n of nodes) {
      this.byDrv.set(n.drvPath, n);
      for (const out of Object.values(n.outputs)) this.makerOf.set(out, n.drvPath);
      this.waitingOn.set(n.drvPath, n.inputs.length);
      for (const i of n.inputs) {
        const list = this.dependents.get(i);
        if (list) list.push(n.drvPath);
        else this.dependents.set(i, [n.drvPath]);
      }
    }
    const onSignal = () => {
      // The CLI aborts with the signal's name as the reason.
      this.stopped ??= { by: 'signal', signal: typeof opts.signal.reason === 'string' ? opts.signal.reason : 'SIGINT' };
      this.queue.clear();
      this.substitutions.clear();
      this.cancel.abort(opts.signal.reason);
    };
    if (opts.signal.aborted) onSignal();
    else opts.signal.addEventListener('abort', onSignal, { once: true });
  }

  async start(available?: Promise<Map<string, CachedPath>>): Promise<void> {
    if (this.nodes.every((n) => outputsValid(n, this.validAtStart))) {
      // Everything valid, a derivation that compares samples among it (realizeGraph
      // finishes a no-op without one by itself): no demand walk, each starts when ready.
      this.startReady(this.nodes);
    } else {
      // What to do depends on what the caches have: nothing starts before they answer.
      if (available) this.found = await available.catch(() => new Map<string, CachedPath>());
      this.needed = new Set();
      const demanded = this.demand(this.opts.roots);
      // A sandbox that cannot start is said once, before anything starts, when the run will
      // build (without caches the CLI asked already): what the caches have needs none.
      if (this.opts.sandbox && available && demanded.some((n) => this.builds(n))) (await import('../builder/sandbox.js')).ensureSandboxWorks();
      this.startReady(demanded);
    }
    // A substitution ahead may release builds, or (when it fails) need inputs and start them: both
    // happen inside a substitution task, so once substitutions are idle only builds remain.
    await this.substitutions.onIdle();
    await this.queue.onIdle();
    if (this.raced) return;
    // What the run never reached: valid outputs are results all the same; the rest was cancelled.
    for (const n of this.nodes) if (!this.finished.has(n.drvPath)) this.unreached(n);
  }

  private raced = false;

  summary(): RealizeSummary {
    return { ...this.counts, failed: this.failures, results: this.results, ...(this.raced ? { raced: true } : {}) };
  }

  private isNeeded(drvPath: string): boolean {
    return this.needed === undefined || this.needed.has(drvPath);
  }

  /**
   * Marks `drvPaths` needed, and what they need: the inputs of one that must be built;
   * for one some cache has, instead, the makers of its outputs' references; for a valid
   * one, nothing (its build-only inputs may be absent: a later run does not fetch them
   * again). Returns the newly needed derivations, in plan order.
   */
  private demand(drvPaths: readonly string[]): GraphNode[] {
    const needed = this.needed!;
    const stack = [...drvPaths];
    let added = false;
    while (stack.length > 0) {
      const d = stack.pop()!;
      const n = this.byDrv.get(d);
      if (!n || needed.has(d)) continue;
      needed.add(d);
      added = true;
      if (outputsValid(n, this.validAtStart)) continue;
      if (this.inCache(n)) {
        for (const p of Object.values(n.outputs)) for (const ref of this.found.get(p)!.references) {
          const maker = this.makerOf.get(ref);
          if (maker !== undefined && maker !== d) stack.push(maker);
        }
      } else {
        stack.push(...n.inputs);
      }
    }
    return added ? this.nodes.filter((n) => needed.has(n.drvPath) && !this.started.has(n.drvPath)) : [];
  }

  /** Derivations handed to the queues, a substitution ahead's included (or finished as valid): never twice. */
  private readonly started = new Set<string>();

  /** Starts what can start among `nodes`: the valid, those with no input left to wait for, and the substitutions ahead. */
  private startReady(nodes: GraphNode[]): void {
    for (const n of nodes) {
      if (this.finished.has(n.drvPath) || this.started.has(n.drvPath)) continue;
      if (this.waitingOn.get(n.drvPath) === 0 || (this.needed !== undefined && outputsValid(n, this.validAtStart))) this.enqueue(n);
    }
    this.substituteAhead(nodes);
  }

  /** Whether a cache has every output of `n` and no substitution of it failed: it is to be substituted. */
  private inCache(n: GraphNode): boolean {
    const outs = Object.values(n.outputs);
    return outs.length > 0 && outs.every((p) => this.found.has(p)) && !this.failedAhead.has(n.drvPath);
  }

  /** Whether the run means to build `n` (not valid, not in a cache, not a fetch): what needs the sandbox. */
  private builds(n: GraphNode): boolean {
    return !outputsValid(n, this.validAtStart) && !this.inCache(n) && n.drv.builder !== 'builtin:fetch';
  }

  /** Valid when the run began (asked once of the store for the whole graph), or since. */
  private valid(storePath: string): boolean {
    return this.validAtStart.has(storePath) || this.opts.store.isValid(storePath);
  }

  /** Whether every output of `n` is valid (at the run's start, or since). */
  private allValid(n: GraphNode): boolean {
    return Object.values(n.outputs).every((p) => this.valid(p));
  }

  /** Ready nodes whose outputs were valid when the run began: finished without a queue slot, a lock or a promise. */
  private readonly readyValid: GraphNode[] = [];
  private draining = false;

  private enqueue(n: GraphNode): void {
    this.started.add(n.drvPath);
    if (n.comparesSamples !== true && outputsValid(n, this.validAtStart)) {
      this.readyValid.push(n);
      this.drainValid();
      return;
    }
    void this.queue.add(() => this.realize(n));
  }

  /** Finishes the valid ready nodes, and those they make ready, in one loop rather than by recursion. */
  private drainValid(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let n = this.readyValid.pop(); n; n = this.readyValid.pop()) {
        if (this.cancel.signal.aborted || this.finished.has(n.drvPath)) continue;
        this.markCached(n);
        this.finished.add(n.drvPath);
        this.release(n.drvPath);
      }
    } finally {
      this.draining = false;
    }
  }


  /** Starts the substitution of each of `nodes` still waiting on inputs whose outputs are all in some cache, the biggest first. */
  private substituteAhead(nodes: GraphNode[]): void {
    const ahead: [GraphNode, number][] = [];
    for (const n of nodes) {
      if (this.finished.has(n.drvPath) || this.started.has(n.drvPath) || this.failedAhead.has(n.drvPath)) continue;
      const outs = Object.values(n.outputs);
      if (outs.length === 0 || !outs.every((p) => this.found.has(p))) continue;
      ahead.push([n, outs.reduce((sum, p) => sum + this.found.get(p)!.narSize, 0)]);
    }
    ahead.sort((a, b) => b[1] - a[1]);
    for (const [n] of ahead) {
      if (this.cancel.signal.aborted) return;
      this.started.add(n.drvPath);
      void this.substitutions.add(() => this.realizeAhead(n));
    }
  }

  private async realizeAhead(n: GraphNode): Promise<void> {
    let result: BuildResult | undefined;
    try {
      if (!this.cancel.signal.aborted && !this.finished.has(n.drvPath)) {
        if (!this.opts.store.allValid(Object.values(n.outputs))) await this.opts.mayAdd?.();
        const { substituteDerivation } = await import('../builder/realize-derivation.js');
        result = await substituteDerivation(
          { drvPath: n.drvPath, name: n.name, drv: n.drv, inputPaths: n.inputPaths, phases: n.phases, timeoutMs: n.timeoutMs },
          { store: this.opts.store, emit: this.opts.events.emit.bind(this.opts.events), cores: this.opts.cores, keepFailed: this.opts.keepFailed, signal: this.cancel.signal, substituter: this.opts.substituter },
        );
      }
    } catch (e) {
      if (e instanceof GcRaceError) return this.lostRaceWithGc();
      // Not substituted ahead: it is realized, and any failure reported, once its inputs are valid.
    }
    if (result && !this.finished.has(n.drvPath)) {
      await this.succeeded(n, result);
      return;
    }
    if (this.finished.has(n.drvPath) || this.cancel.signal.aborted) return;
    // To be built after all: now its inputs are needed; it starts when the last is valid.
    this.failedAhead.add(n.drvPath);
    this.started.delete(n.drvPath);
    this.startReady(this.demand(n.inputs));
    if (this.waitingOn.get(n.drvPath) === 0) this.enqueue(n);
  }

  /** A gc removed what this run needed: stop here; the caller plans and runs again. */
  private lostRaceWithGc(): void {
    this.raced = true;
    this.queue.clear();
    this.substitutions.clear();
    this.cancel.abort();
  }

  private async realize(n: GraphNode): Promise<void> {
    // Left for the sweep at the end, which reports it cached or cancelled.
    if (this.cancel.signal.aborted || this.finished.has(n.drvPath)) return;
    const emit = this.opts.events.emit.bind(this.opts.events);
    try {
      if (n.sources.every((s) => this.valid(s.storePath)) && this.allValid(n)) {
        // Valid already (one that compares samples comes here even so, for its report):
        // what realizeDerivation would answer, without loading the modules that add and
        // build (ssri, node:crypto, Node's streams: ~10 ms of a no-op of full-x86_64).
        await this.succeeded(n, { action: 'cached', outputs: n.outputs, durationMs: 0 });
        return;
      }
      await this.opts.mayAdd?.();
      const [{ addSource }, { realizeDerivation }] = await Promise.all([import('../store/add.js'), import('../builder/realize-derivation.js')]);
      for (const s of n.sources) await addSource(this.opts.store, s.localPath, s.storePath, sourceEntries);
      const result = await realizeDerivation(
        { drvPath: n.drvPath, name: n.name, drv: n.drv, inputPaths: n.inputPaths, phases: n.phases, comparesSamples: n.comparesSamples, timeoutMs: n.timeoutMs },
        {
          store: this.opts.store,
          emit,
          cores: this.opts.cores,
          keepFailed: this.opts.keepFailed,
          signal: this.cancel.signal,
          timeoutMs: this.opts.timeoutMs,
          substituter: this.opts.substituter,
          sandbox: this.opts.sandbox,
        },
      );
      await this.succeeded(n, result);
    } catch (e) {
      if (e instanceof GcRaceError) return this.lostRaceWithGc();
      await this.failed(n, e);
    }
  }

  private async succeeded(n: GraphNode, outcome: BuildResult): Promise<void> {
    const time = Date.now();
    // Valid by the time its turn came because another's substitution brought it in as a reference: substituted all the same.
    const delivered = outcome.action === 'cached' ? this.opts.substituter?.deliveredInThisRun(Object.values(n.outputs)) : undefined;
    const result: BuildResult = delivered ? { action: 'substituted', outputs: n.outputs, ...delivered } : outcome;
    if (result.action === 'cached') {
      this.markCached(n);
    } else if (result.action === 'substituted') {
      this.counts.substituted++;
      const { outputs, durationMs, from } = result;
      this.opts.events.emit({ type: 'substituted', time, drvPath: n.drvPath, outputs, from, durationMs });
      if (this.opts.roots.includes(n.drvPath)) this.results[n.drvPath] = outputs;
    } else {
      this.counts.built++;
      this.opts.events.emit({ type: 'built', time, drvPath: n.drvPath, outputs: result.outputs, durationMs: result.durationMs });
      if (this.opts.roots.includes(n.drvPath)) this.results[n.drvPath] = result.outputs;
    }
    if (n.comparesSamples === true) await this.announceVerification(n);
    this.finished.add(n.drvPath);
    this.release(n.drvPath);
  }

  /** `drvPath`'s outputs are valid: its dependents wait on one input less. */
  private release(drvPath: string): void {
    for (const d of this.dependents.get(drvPath) ?? []) {
      const left = this.waitingOn.get(d)! - 1;
      this.waitingOn.set(d, left);
      // One being substituted ahead starts after a failed substitution, if at all; one not needed, never.
      if (left === 0 && !this.finished.has(d) && !this.started.has(d) && this.isNeeded(d)) this.enqueue(this.byDrv.get(d)!);
    }
  }

  private async announceVerification(n: GraphNode, reportPath = path.join(n.outputs.out, 'report.json')): Promise<void> {
    try {
      const { readReport } = await import('../comparison/report.js');
      const report = await readReport(reportPath);
      // The event carries the report: no consumer reads the file again.
      this.opts.events.emit({ type: 'verified', time: Date.now(), drvPath: n.drvPath, passed: report.passed, total: report.total, reportPath, report });
    } catch {
      // A verification derivation without a readable report is shown as an ordinary build.
    }
  }

  private async failed(n: GraphNode, e: unknown): Promise<void> {
    this.finished.add(n.drvPath);
    // A build the run itself stopped did not fail on its own: say so, and count it apart.
    if (this.cancel.signal.aborted && this.stopped?.by === 'failure') {
      this.cancelled(n.drvPath);
      return;
    }
    let failure = e instanceof BuildFailure ? e : new BuildFailure({ kind: 'internal', message: (e as Error).message ?? String(e) });
    if (this.stopped?.by === 'signal') failure = new BuildFailure({ kind: 'interrupted', signal: this.stopped.signal }, failure.phase, failure.logPath, failure.keptBuildDir);
    this.failures.push({ drvPath: n.drvPath, name: n.name, failure });
    this.opts.events.emit({
      type: 'failed',
      time: Date.now(),
      drvPath: n.drvPath,
      reason: failure.reason,
      phase: failure.phase,
      logPath: failure.logPath,
      keptBuildDir: failure.keptBuildDir,
    });
    if (n.comparesSamples === true && failure.logPath) {
      const { failedReportPath } = await import('../builder/realize-derivation.js');
      await this.announceVerification(n, failedReportPath(failure.logPath));
    }
    this.skipDependents(n.drvPath, n.drvPath);
    if (!this.opts.keepGoing && this.stopped === undefined) {
      this.stopped = { by: 'failure', drvPath: n.drvPath };
      this.queue.clear();
      this.substitutions.clear();
      this.cancel.abort();
    }
  }

  private markCached(n: GraphNode): void {
    this.finished.add(n.drvPath);
    this.counts.cached++;
    this.opts.events.emit({ type: 'cached', time: Date.now(), drvPath: n.drvPath, outputs: n.outputs });
    if (this.opts.roots.includes(n.drvPath)) this.results[n.drvPath] = n.outputs;
  }

  /** A derivation the run ended without reaching. */
  private unreached(n: GraphNode): void {
    if (this.allValid(n)) this.markCached(n);
    else if (!this.isNeeded(n.drvPath)) this.notNeeded(n.drvPath);
    else this.cancelled(n.drvPath);
  }

  private notNeeded(drvPath: string): void {
    this.finished.add(drvPath);
    this.counts.notNeeded++;
    this.opts.events.emit({ type: 'not-needed', time: Date.now(), drvPath });
  }

  private cancelled(drvPath: string): void {
    this.finished.add(drvPath);
    this.counts.cancelled++;
    const becauseOf = this.stopped?.by === 'failure' ? this.stopped.drvPath : undefined;
    this.opts.events.emit({ type: 'cancelled', time: Date.now(), drvPath, becauseOf });
  }

  private skipDependents(drvPath: string, becauseOf: string): void {
    for (const d of this.dependents.get(drvPath) ?? []) {
      if (this.finished.has(d)) continue;
      const node = this.byDrv.get(d)!;
      // Valid outputs need nothing from the failed input: they are results all the same.
      if (this.allValid(node)) {
        this.markCached(node);
        this.release(d);
        continue;
      }
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
