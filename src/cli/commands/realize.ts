import path from 'node:path';
import { ExitCode, UsageError } from '../../errors.js';
import type { EventSink, SlimeEvent } from '../../events.js';
import { defaultCores, describeFailure } from '../../builder/realize-derivation.js';
import { ensureSandboxWorks, sandboxWanted } from '../../builder/sandbox.js';
import { planGraph } from '../../scheduler/plan.js';
import { GcRaceError, realizeGraph, type RealizeSummary } from '../../scheduler/scheduler.js';
import { resolveTarget } from '../../derivation/load.js';
import { acquireLock, type Lock } from '../../store/lock.js';
import { addResultLink } from '../../store/roots.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs, positiveInt } from '../options.js';

const help = `Usage: slime realize TARGET... [options]

Builds the derivations TARGET needs, in dependency order and in parallel, reusing
every output already valid in the store, then prints the output paths on stdout and
links them as ./result, ./result-2, ... (gc roots while the links exist).

TARGET is a target name (\`slime targets\` lists them), a derivation exported by the
module, a derivation name, or a .drv store path.

Options:
  -j, --jobs N          builds at once (default: the number of cores)
      --cores N         cores each build may use, $NIX_BUILD_CORES (default: all)
  -k, --keep-going      after a failure, go on building everything that does not depend on it
  -K, --keep-failed     keep a failed build's directory and say where
      --timeout SECS    end any build that runs longer (exit 101)
      --log-format FMT  tui (default on a terminal), plain (default otherwise) or json:
                        one event per line; logs go to stderr, output paths to stdout
      --out-link NAME   name of the result link (default: result)
      --no-link         make no result links
      --no-sandbox      run builders without the build sandbox (also SLIME_SANDBOX=0); see
                        "The sandbox" in the README
${COMMON_HELP}

Exit codes: 0 all built; 100 a build failed; 101 a build timed out; 102 a fixed-output
hash did not match; 130, 143, 129 interrupted by SIGINT, SIGTERM, SIGHUP (running builds
are stopped and nothing partial is kept); 2 usage error; 1 other errors.`;

const options = {
  ...commonOptions,
  jobs: { type: 'string', short: 'j' },
  cores: { type: 'string' },
  'keep-going': { type: 'boolean', short: 'k' },
  'keep-failed': { type: 'boolean', short: 'K' },
  timeout: { type: 'string' },
  'log-format': { type: 'string' },
  'out-link': { type: 'string' },
  'no-link': { type: 'boolean' },
  'no-sandbox': { type: 'boolean' },
} as const;

/** What a shell reports for a process ended by each signal slime stops on: 128 + its number. */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: ExitCode.interrupted, SIGTERM: 143 };

type LogFormat = 'tui' | 'plain' | 'json';

function logFormatOf(value: string | undefined, ctx: CliContext): LogFormat {
  if (value === undefined) {
    const tty = (ctx.stdout as NodeJS.WriteStream).isTTY && (ctx.stderr as NodeJS.WriteStream).isTTY;
    return tty && !ctx.env.CI ? 'tui' : 'plain';
  }
  if (value === 'tui' || value === 'plain' || value === 'json') return value;
  throw new UsageError(`--log-format must be tui, plain or json, not "${value}"`);
}

/** Loggers are loaded on demand: plain and json runs never load Ink or React. */
async function sinkFor(format: LogFormat, ctx: CliContext): Promise<EventSink> {
  if (format === 'json') return (await import('../../logging/json.js')).jsonLogger(ctx.stderr);
  if (format === 'plain') return (await import('../../logging/plain.js')).plainLogger(ctx.stderr);
  // React's development build costs ~40% more CPU per frame; slime ships the TUI, not a dev session.
  process.env.NODE_ENV ??= 'production';
  const { startTui } = await import('../../../tui/realize-view.js');
  return startTui({ stdout: ctx.stdout as NodeJS.WriteStream, stdin: ctx.stdin as NodeJS.ReadStream });
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('realize', args, options);
  if (positionals.length === 0) throw new UsageError('slime realize needs at least one TARGET; `slime targets` lists them');
  const cores = positiveInt('--cores', values.cores, defaultCores());
  const jobs = positiveInt('--jobs', values.jobs, defaultCores());
  const timeoutMs = values.timeout === undefined ? undefined : positiveInt('--timeout', values.timeout, 0) * 1000;
  const format = logFormatOf(values['log-format'], ctx);
  const sandbox = sandboxWanted(values['no-sandbox'], ctx.env);

  const store = openStore(ctx, values.store);
  // The gc lock, shared: many realizes at once, gc and repair exclusively. Taken only
  // when the run adds something; a run that finds everything valid takes no lock and
  // checks afterwards, through the gc generation, that no gc ran meanwhile.
  let storeLock: Promise<Lock> | undefined;
  const takeLock = () => (storeLock ??= acquireLock(store.globalLockFile, { shared: true }));
  try {
    const mod = await openModule(ctx, store, values.file);
    const resolved = positionals.map((t) => resolveTarget(mod, t));
    const roots = resolved.flatMap((r) => r.derivations);
    const nodes = planGraph(roots);
    // A sandbox that cannot start is said once, up front, not as a failure of every build.
    const toBuild = nodes.filter((n) => n.drv.builder !== 'builtin:fetch' && !store.allValid(Object.values(n.outputs)));
    if (sandbox && toBuild.length > 0) ensureSandboxWorks();
    const display = await sinkFor(format, ctx);
    const verified: Extract<SlimeEvent, { type: 'verified' }>[] = [];
    const sink: EventSink = {
      emit: (e) => {
        if (e.type === 'verified') verified.push(e);
        display.emit(e);
      },
      close: () => display.close?.(),
    };
    const abort = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => abort.abort(signal);
    for (const s of Object.keys(SIGNAL_EXIT)) process.on(s, onSignal);
    let summary: RealizeSummary;
    let outPaths: string[] = [];
    const link = (paths: string[]) => {
      if (!values['no-link']) makeResultLinks(store, paths, values['out-link'] ?? 'result', process.cwd());
    };
    try {
      const realizeOnce = (before?: { generation: number }) =>
        realizeGraph(nodes, {
          store,
          events: sink,
          targets: positionals,
          roots: roots.map((r) => r.drvPath),
          jobs,
          cores,
          keepGoing: Boolean(values['keep-going']),
          keepFailed: Boolean(values['keep-failed']),
          timeoutMs,
          sandbox,
          signal: abort.signal,
          mayAdd: async () => {
            await takeLock();
            // Started without the lock: what was seen valid may be gone if a gc ran since.
            if (before && store.db.gcState().generation !== before.generation) throw new GcRaceError();
          },
        });
      const before = store.db.gcState();
      if (before.collecting) await takeLock();
      summary = await realizeOnce(storeLock ? undefined : before);
      if (summary.raced) summary = await realizeOnce();
      outPaths = roots.flatMap((r) => (summary.results[r.drvPath] ? Object.values(summary.results[r.drvPath]) : []));
      link(outPaths);
      if (!storeLock) {
        // No lock was held: if a gc ran before the links (roots) existed, check under the lock.
        const after = store.db.gcState();
        if (after.generation !== before.generation || after.collecting) {
          await takeLock();
          if (!store.allValid(outPaths)) {
            summary = await realizeOnce();
            outPaths = roots.flatMap((r) => (summary.results[r.drvPath] ? Object.values(summary.results[r.drvPath]) : []));
            link(outPaths);
          }
        }
      }
    } finally {
      for (const s of Object.keys(SIGNAL_EXIT)) process.off(s, onSignal);
      await sink.close?.();
    }
    if (abort.signal.aborted) {
      const signal = String(abort.signal.reason);
      ctx.stderr.write(`error: interrupted by ${signal}; running builds were stopped and nothing partial was kept\n`);
      return SIGNAL_EXIT[signal] ?? ExitCode.interrupted;
    }
    reportFailures(summary, ctx);
    for (const v of verified) {
      ctx.stderr.write(`${v.passed}/${v.total} bit-exact${v.passed === v.total ? '' : ' — NOT bit-exact'} (report: ${v.reportPath})\n`);
    }
    for (const p of outPaths) ctx.stdout.write(p + '\n');
    return exitCodeOf(summary);
  } finally {
    await (await storeLock?.catch(() => undefined))?.release();
  }
}

function reportFailures(summary: RealizeSummary, ctx: CliContext): void {
  for (const f of summary.failed) {
    const where = f.failure.logPath ? `; log: ${f.failure.logPath} (or \`slime log ${f.name}\`)` : '';
    const kept = f.failure.keptBuildDir ? `; build directory kept at ${f.failure.keptBuildDir}` : '';
    const phase = f.failure.phase ? ` during ${f.failure.phase}` : '';
    ctx.stderr.write(`error: ${f.name} failed${phase}: ${describeFailure(f.failure.reason)}${where}${kept}\n`);
  }
  if (summary.skipped > 0) {
    ctx.stderr.write(`error: ${summary.skipped} derivation(s) were not built because a dependency failed\n`);
  }
}

function exitCodeOf(summary: RealizeSummary): number {
  if (summary.failed.length === 0) return summary.skipped > 0 ? ExitCode.buildFailed : ExitCode.ok;
  const codes = summary.failed.map((f) => f.failure.exitCode);
  for (const c of [ExitCode.hashMismatch, ExitCode.timeout, ExitCode.buildFailed]) if (codes.includes(c)) return c;
  return codes[0];
}

/** `result`, `result-2`, ...: each link is an indirect gc root while it exists. */
function makeResultLinks(store: Store, outPaths: string[], base: string, dir: string): void {
  outPaths.forEach((p, i) => addResultLink(store, p, path.resolve(dir, i === 0 ? base : `${base}-${i + 1}`)));
}

const command: Command = { summary: 'build targets and link their outputs as ./result', help, run };
export default command;
