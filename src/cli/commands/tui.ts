import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, SIGNAL_EXIT, SlimeError, UsageError } from '../../errors.js';
import type { EventSink } from '../../events.js';
import { latestBench } from '../../bench/run-bench.js';
import { defaultCores, failedReportPath } from '../../builder/realize-derivation.js';
import type { Derivation } from '../../derivation/api.js';
import { resolveTarget, type LoadedModule } from '../../derivation/load.js';
import { planGraph } from '../../scheduler/plan.js';
import { realizeGraph } from '../../scheduler/scheduler.js';
import { acquireLock } from '../../store/lock.js';
import type { Store } from '../../store/store.js';
import { readReport } from '../../comparison/report.js';
import type { Backend, RecentRun, RunOutcome, TargetInfo } from '../../../tui/app/backend.js';
import { readRunRecords, watchRunRecords } from '../../store/run-records.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStoreAfter, parseCommandArgs, positiveInt } from '../options.js';
import { describeTargetCheck, targetStates } from '../target-state.js';
import { gatherListArgs, SUBSTITUTION_HELP, substituterFor, substitutionOptions } from '../substitution-options.js';
import type { Substituter } from '../../cache/substituter.js';
import { checkGraph } from '../../check/check.js';
import { loadInk } from '../esm-deps.js';

const help = `Usage: slime tui [options]

An interactive terminal UI: lists the targets with their state and latest
sample comparison, realizes the one you pick (Enter) with the live view of
\`slime realize\`, opens any derivation's full log (scroll, / to search, n for the
next match), shows the target's sample comparison and latest \`slime bench\`,
compares the samples again (s), checks that the target rebuilds bit for bit (c,
as \`slime check\`), and lists the recent runs of \`slime run\` with the tier the
router picked, its reasons, the wall time and the exit status (r). The bottom
line always lists the keys; q quits, and Ctrl-C stops running builds before
quitting.

Needs a terminal; elsewhere use \`slime realize TARGET --log-format plain\`.

Options:
  -j, --jobs N          builds at once (default: the number of cores)
      --cores N         cores each build may use (default: all)
${SUBSTITUTION_HELP}
${COMMON_HELP}

Exit codes: 0 quit; 130 interrupted (Ctrl-C or SIGINT), 143 SIGTERM, 129 SIGHUP; 2 usage error; 1 other errors.`;

const options = {
  ...commonOptions,
  jobs: { type: 'string', short: 'j' },
  cores: { type: 'string' },
  ...substitutionOptions,
} as const;

/** The derivation of a target that compares its samples (`comparesSamples`), if it has one. */
function comparisonStep(roots: Derivation[]): Derivation | undefined {
  return comparisonSteps(roots)[0];
}

/**
 * Every sample comparison of a target, in the order the target lists them: one for the
 * Full tier's isolate, one per runner for the Light tier.
 */
function comparisonSteps(roots: Derivation[]): Derivation[] {
  const seen = new Set<string>();
  const found: Derivation[] = [];
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (seen.has(d.drvPath)) continue;
    seen.add(d.drvPath);
    if (d.comparesSamples === true) found.push(d);
    else stack.push(...[...d.inputDerivations].reverse());
  }
  return found;
}

/** How many of the recorded runs of `slime run` the app lists. */
const RECENT_RUNS = 200;

/** The app's view of a real store and derivation module. */
class StoreBackend implements Backend {
  readonly moduleName: string;
  readonly storeDir: string;

  constructor(
    private readonly store: Store,
    private readonly mod: LoadedModule,
    private readonly build: { jobs: number; cores: number; cwd: string; substituter?: Substituter },
  ) {
    const relative = path.relative(build.cwd, mod.file);
    this.moduleName = relative.startsWith('..') ? mod.file : relative;
    this.storeDir = store.dir;
  }

  async targets(): Promise<TargetInfo[]> {
    return Promise.all(
      targetStates(this.mod, this.store).map(async (s) => {
        const [comparison, ...others] = comparisonSteps(resolveTarget(this.mod, s.name).derivations);
        const bench = latestBench(this.store, s.name);
        const more = (await Promise.all(others.map((d) => this.latestReport(d)))).flatMap((r) => (r.report ? [r.report] : []));
        return {
          ...s,
          comparesSamples: comparison !== undefined,
          ...(s.check !== undefined ? { checked: { verdict: s.check.verdict, summary: describeTargetCheck(s.check) } } : {}),
          ...(comparison !== undefined ? await this.latestReport(comparison) : {}),
          ...(more.length > 0 ? { moreReports: more } : {}),
          // The per-sample rows are the comparison's business; the panel shows the workloads.
          bench: bench && { measuredAt: bench.measuredAt, reference: bench.reference, rows: bench.rows.filter((r) => r.kind !== 'sample') },
        };
      }),
    );
  }

  /** The valid output's report, else the one a failed comparison left beside its log. */
  private async latestReport(comparison: Derivation): Promise<Pick<TargetInfo, 'report' | 'reportError'>> {
    const out = comparison.outputs.out;
    const file = out !== undefined && this.store.isValid(out) ? path.join(out, 'report.json') : failedReportPath(this.store.logFile(comparison.drvPath));
    if (!fs.existsSync(file)) return {};
    try {
      return { report: await readReport(file) };
    } catch (e) {
      return { reportError: (e as Error).message };
    }
  }

  realize(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome> {
    return this.run(target, resolveTarget(this.mod, target).derivations, events, signal);
  }

  /**
   * Outputs are addressed by their derivation, so the same comparison cannot be
   * built "again" beside the old one: its output is forgotten and deleted first,
   * under the store's shared lock as any build is, so gc never sees it half gone.
   */
  async rerunSampleComparison(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome> {
    const comparison = comparisonStep(resolveTarget(this.mod, target).derivations);
    if (comparison === undefined) throw new SlimeError(`target ${target} compares no samples; pick a target that does (full-x86_64-quick, light-wasm32)`);
    const lock = await acquireLock(this.store.globalLockFile, { shared: true });
    try {
      this.store.forget(Object.values(comparison.outputs));
    } finally {
      await lock.release();
    }
    return this.run(target, [comparison], events, signal);
  }

  logFile(drvPath: string): string {
    return this.store.logFile(drvPath);
  }

  /** The last RECENT_RUNS records of `slime run`, newest first, scripts named as from the working directory. */
  async recentRuns(): Promise<readonly RecentRun[]> {
    return readRunRecords(this.store)
      .slice(-RECENT_RUNS)
      .reverse()
      .map((r) => {
        const relative = path.relative(this.build.cwd, r.script);
        return { ...r, script: relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? r.script : relative };
      });
  }

  watchRecentRuns(onChange: () => void): () => void {
    return watchRunRecords(this.store, onChange);
  }

  /** `slime check TARGET`, one round: the verdicts land in the store, where targets() reads them. */
  async check(target: string, events: EventSink, signal: AbortSignal): Promise<RunOutcome> {
    const roots = resolveTarget(this.mod, target).derivations;
    const lock = await acquireLock(this.store.globalLockFile, { shared: true });
    try {
      const summary = await checkGraph(planGraph(roots), {
        store: this.store,
        events,
        targets: [target],
        roots: roots.map((r) => r.drvPath),
        rounds: 1,
        keepFailed: false,
        jobs: this.build.jobs,
        cores: this.build.cores,
        signal,
      });
      const bad = summary.records.filter((r) => r.verdict === 'differs' || r.verdict === 'failed').length;
      return { failed: summary.realize.failed.length + bad, interrupted: summary.interrupted };
    } finally {
      await lock.release();
    }
  }

  private async run(target: string, roots: Derivation[], events: EventSink, signal: AbortSignal): Promise<RunOutcome> {
    const lock = await acquireLock(this.store.globalLockFile, { shared: true });
    try {
      const summary = await realizeGraph(planGraph(roots), {
        store: this.store,
        events,
        targets: [target],
        roots: roots.map((r) => r.drvPath),
        jobs: this.build.jobs,
        cores: this.build.cores,
        keepGoing: false,
        keepFailed: false,
        signal,
        substituter: this.build.substituter,
      });
      return { failed: summary.failed.length, interrupted: signal.aborted };
    } finally {
      await lock.release();
    }
  }
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('tui', gatherListArgs(args), options);
  if (positionals.length > 0) throw new UsageError(`slime tui takes no arguments (got ${positionals.join(' ')}); pick the target in the list`);
  const stdout = ctx.stdout as NodeJS.WriteStream;
  const stdin = ctx.stdin as NodeJS.ReadStream;
  if (!stdout.isTTY || !stdin.isTTY) {
    throw new SlimeError('slime tui needs a terminal for its input and output; without one use `slime realize TARGET --log-format plain` (`slime targets` lists the targets)');
  }
  const jobs = positiveInt('--jobs', values.jobs, defaultCores());
  const cores = positiveInt('--cores', values.cores, defaultCores());
  const { store, prepared: mod } = await openStoreAfter(ctx, values.store, (s) => openModule(ctx, s, values.file));
  await loadInk();
  const { runTuiApp } = await import('../../../tui/app/start.js');
  const reason = await runTuiApp(new StoreBackend(store, mod, { jobs, cores, cwd: ctx.cwd, substituter: await substituterFor(values, ctx, store) }), { stdout, stdin });
  // As a shell reports a process a signal ended: 130 for Ctrl-C and SIGINT, 143 SIGTERM, 129 SIGHUP.
  if (reason === 'key') return ExitCode.ok;
  return SIGNAL_EXIT[reason === 'interrupt' ? 'SIGINT' : reason] ?? ExitCode.interrupted;
}

const command: Command = { summary: 'interactive: pick a target, realize it, read logs, results and benchmarks', help, run };
export default command;
