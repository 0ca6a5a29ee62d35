import path from 'node:path';
import { ExitCode, SIGNAL_EXIT, UsageError } from '../../errors.js';
import type { EventSink, SlimeEvent } from '../../events.js';
import { defaultCores } from '../../builder/cores.js';
import { ensureSandboxWorks, sandboxWanted } from '../../builder/sandbox.js';
import { describeFailure } from '../../run/failure.js';
import { formatBytes, formatDuration, plural } from '../../run/format.js';
import { outputsValid, pathsOf, planGraph, type GraphNode } from '../../scheduler/plan.js';
import { graphFromStoreDrvs } from '../../scheduler/drv-graph.js';
import type { Derivation } from '../../derivation/api.js';
import { allDerivations, type LoadedModule } from '../../derivation/load.js';
import { looksLikePath, storePathOf } from '../store-arg.js';
import { GcRaceError, realizeGraph, type RealizeSummary } from '../../scheduler/scheduler.js';
import { resolveTarget } from '../../derivation/load.js';
import { acquireLock, startLockHelper, type Lock } from '../../store/lock.js';
import { addResultLink } from '../../store/roots.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStoreAfter, parseCommandArgs, positiveInt } from '../options.js';
import { gatherListArgs, SUBSTITUTION_HELP, substituterFor, substitutionOptions } from '../substitution-options.js';
import { loadInk } from '../esm-deps.js';
import { phaseTracer } from '../phase-trace.js';
import { startUpDone } from '../start-up-done.js';

const help = `Usage: slime realize TARGET... [options]

Builds the derivations TARGET needs, in dependency order and in parallel, reusing
every output already valid in the store, then prints the output paths on stdout and
links them as ./result, ./result-2, ... (gc roots while the links exist).

TARGET is a target name (\`slime targets\` lists them), a derivation exported by the
module, a derivation name, or a store path or a link to one (./result): a .drv is
built from the store's .drv files without the module (with -f, from the module), a
valid output path is printed and linked as it is, another output path is built from
the module's derivation that has it. \`slime realise\` is the same command.

Options:
  -j, --jobs N          builds at once (default: the number of cores)
      --cores N         cores each build may use, $NIX_BUILD_CORES (default: all)
  -k, --keep-going      after a failure, go on building everything that does not depend on it
  -K, --keep-failed     keep a failed build's directory and say where
      --timeout SECS    end any build that runs longer (exit 101)
      --log-format FMT  tui (default on a terminal), plain (default otherwise) or json:
                        one event per line; logs go to stderr, output paths to stdout
  -o, --out-link NAME   name of the result link (default: result), as nix-build -o
      --no-link         make no result links
      --dry-run         say what would be built, fetched and reused, and do nothing
  -L, --print-build-logs  plain log: every line the builds write, as they write it
  -v, --verbose         plain log: build lines, and what was already valid
  -q, --quiet           plain log: failures only
      --no-sandbox      run builders without the build sandbox (also SLIME_SANDBOX=0); see
                        "The sandbox" in the README
${SUBSTITUTION_HELP}
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
  'out-link': { type: 'string', short: 'o' },
  'no-link': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'print-build-logs': { type: 'boolean', short: 'L' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  'no-sandbox': { type: 'boolean' },
  ...substitutionOptions,
} as const;


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
async function sinkFor(format: LogFormat, ctx: CliContext, plain: import('../../logging/plain.js').PlainOptions = {}): Promise<EventSink> {
  if (format === 'json') return (await import('../../logging/json.js')).jsonLogger(ctx.stderr);
  if (format === 'plain') return (await import('../../logging/plain.js')).plainLogger(ctx.stderr, plain);
  await loadInk();
  const { startTui } = await import('../../../tui/realize-view.js');
  return startTui({ stdout: ctx.stdout as NodeJS.WriteStream, stdin: ctx.stdin as NodeJS.ReadStream });
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const phaseEnded = phaseTracer(ctx.env);
  const parsed = parseCommandArgs('realize', gatherListArgs(args), options);
  const values = parsed.values;
  // A target named twice is realized, printed and linked once.
  const positionals = [...new Set(parsed.positionals)];
  if (positionals.length === 0) throw new UsageError('slime realize needs at least one TARGET; `slime targets` lists them');
  const cores = positiveInt('--cores', values.cores, defaultCores());
  const jobs = positiveInt('--jobs', values.jobs, defaultCores());
  const timeoutMs = values.timeout === undefined ? undefined : positiveInt('--timeout', values.timeout, 0) * 1000;
  const format = logFormatOf(values['log-format'], ctx);
  const sandbox = sandboxWanted(values['no-sandbox'], ctx.env);

  const { store, prepared: wanted } = await openStoreAfter(ctx, values.store, (s) => resolveWanted(ctx, s, positionals, values.file));
  // The gc lock, shared: many realizes at once, gc and repair exclusively. Taken only
  // when the run adds something; a run that finds everything valid takes no lock and
  // checks afterwards, through the gc generation, that no gc ran meanwhile.
  let storeLock: Promise<Lock> | undefined;
  const takeLock = () => (storeLock ??= acquireLock(store.globalLockFile, { shared: true }));
  try {
    const roots = wanted.flatMap((w) => (w.kind === 'derivations' ? w.derivations : []));
    const drvRoots = wanted.flatMap((w) => (w.kind === 'drv' ? [w.drvPath] : []));
    const nodes = mergeNodes(planGraph(roots), graphFromStoreDrvs(store, drvRoots));
    const rootPaths = [...roots.map((r) => r.drvPath), ...drvRoots];
    phaseEnded?.('plan');
    if (values['dry-run']) {
      ctx.stderr.write(dryRun(store, nodes, rootPaths));
      return ExitCode.ok;
    }
    // One validity query for the whole graph, handed to the scheduler for its first run
    // if no gc began since (the generation read before it, as the run's own check does).
    const atStart = store.validSnapshot(pathsOf(nodes));
    const validGeneration = atStart.gc;
    let validAtStart: Set<string> | undefined = atStart.valid;
    phaseEnded?.('validity');
    const toRealize = nodes.filter((n) => !outputsValid(n, validAtStart!));
    const substituter = await substituterFor(values, ctx, store);
    // A sandbox that cannot start is said once, up front, not as a failure of every build:
    // here when there is no cache to ask, else by the scheduler once the caches have said
    // what they have (substituting needs no sandbox, as in Nix).
    if (sandbox && !substituter && toRealize.some((n) => n.drv.builder !== 'builtin:fetch')) ensureSandboxWorks();
    // Whatever is not valid is fetched, substituted or built under a lock.
    if (toRealize.length > 0) startLockHelper();
    if (values.quiet && (values.verbose || values['print-build-logs'])) throw new UsageError('--quiet and --verbose/-L contradict each other; pass one');
    // -L, -v and --quiet shape the plain log; a terminal asking for them gets the plain log.
    const plainWanted = values.quiet || values.verbose || values['print-build-logs'];
    const display = await sinkFor(plainWanted && values['log-format'] === undefined ? 'plain' : format, ctx, {
      verbose: values.verbose,
      printBuildLogs: values['print-build-logs'],
      quiet: values.quiet,
    });
    // A run with work to do: what ran until now (the options, the plan, the validity query,
    // the logger made) is what the next run starts with, and nothing of the work has begun
    // (../start-up-done.ts): the launcher takes its code cache now, if it is to write one.
    // A run without work (a no-op) ends soon, and its cache is taken at its exit.
    if (toRealize.length > 0) startUpDone();
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
      const collectOutPaths = (sum: RealizeSummary) => {
        const outputsOf = (drvPath: string) => (sum.results[drvPath] ? Object.values(sum.results[drvPath]) : []);
        return wanted.flatMap((w) =>
          w.kind === 'valid' ? [w.path] : w.kind === 'drv' ? outputsOf(w.drvPath) : w.derivations.flatMap((d) => outputsOf(d.drvPath)),
        );
      };
      const realizeOnce = (before?: { generation: number }) => {
        const valid = before && before.generation === validGeneration.generation && !validGeneration.collecting ? validAtStart : undefined;
        validAtStart = undefined;
        return realizeGraph(nodes, {
          store,
          events: sink,
          targets: positionals,
          roots: rootPaths,
          jobs,
          cores,
          keepGoing: Boolean(values['keep-going']),
          keepFailed: Boolean(values['keep-failed']),
          timeoutMs,
          sandbox,
          signal: abort.signal,
          substituter,
          mayAdd: async () => {
            await takeLock();
            // Started without the lock: what was seen valid may be gone if a gc ran since.
            if (before && store.gcState().generation !== before.generation) throw new GcRaceError();
          },
          valid,
        });
      };
      const before = store.gcState();
      if (before.collecting) await takeLock();
      summary = await realizeOnce(storeLock ? undefined : before);
      if (summary.raced) summary = await realizeOnce();
      outPaths = collectOutPaths(summary);
      link(outPaths);
      if (!storeLock) {
        // No lock was held: if a gc ran before the links (roots) existed, check under the lock.
        const after = store.gcState();
        if (after.generation !== before.generation || after.collecting) {
          await takeLock();
          if (!store.allValid(outPaths)) {
            summary = await realizeOnce();
            outPaths = collectOutPaths(summary);
            link(outPaths);
          }
        }
      }
    } finally {
      for (const s of Object.keys(SIGNAL_EXIT)) process.off(s, onSignal);
      await sink.close?.();
    }
    phaseEnded?.('realize');
    const tell = teller(format, ctx);
    if (abort.signal.aborted) {
      const signal = String(abort.signal.reason);
      const code = SIGNAL_EXIT[signal] ?? ExitCode.interrupted;
      tell('error', `interrupted by ${signal}; running builds were stopped and nothing partial was kept`, code);
      return code;
    }
    reportFailures(summary, Boolean(values['keep-going']), tell);
    const missing = store.missingFromDirectory(outPaths);
    for (const p of missing) {
      tell('error', `${p} is registered valid but missing from the store directory (removed by hand?); \`slime verify --repair\` rebuilds it`);
    }
    for (const v of verified) {
      const line = `${v.passed}/${v.total} bit-exact${v.passed === v.total ? '' : ' — NOT bit-exact'} (report: ${v.reportPath})`;
      if (format === 'json') tell('note', line);
      else ctx.stderr.write(`${line}\n`);
    }
    for (const p of outPaths) ctx.stdout.write(p + '\n');
    const code = exitCodeOf(summary);
    return code === ExitCode.ok && missing.length > 0 ? ExitCode.failure : code;
  } finally {
    await (await storeLock?.catch(() => undefined))?.release();
  }
}

/**
 * `--dry-run`: what a realize would do, grouped as Nix groups it, with what is known
 * beforehand: how long the last builds of the same name took, and the size of what is
 * already valid. A download's size is not known before it starts. As the scheduler does,
 * a valid derivation needs none of its inputs: those absent are listed as not needed.
 * The caches are not asked: what they would deliver is counted as built or fetched.
 */
function dryRun(store: Store, nodes: GraphNode[], roots: string[]): string {
  const valid = (n: GraphNode) => Object.values(n.outputs).every((p) => store.isValid(p));
  const byDrv = new Map(nodes.map((n) => [n.drvPath, n]));
  const needed = new Set<string>();
  for (const stack = [...roots]; stack.length > 0; ) {
    const n = byDrv.get(stack.pop()!);
    if (!n || needed.has(n.drvPath)) continue;
    needed.add(n.drvPath);
    if (!valid(n)) stack.push(...n.inputs);
  }
  const todo = nodes.filter((n) => needed.has(n.drvPath) && !valid(n));
  const fetch = todo.filter((n) => n.fixedOutput);
  const build = todo.filter((n) => !n.fixedOutput);
  const reused = nodes.filter(valid);
  const notNeeded = nodes.filter((n) => !needed.has(n.drvPath) && !valid(n));
  const lines: string[] = [];
  const took = (n: GraphNode) => {
    const ms = store.expectedDuration(n.name);
    return ms !== undefined ? `  (about ${formatDuration(ms)}, as before)` : '';
  };
  if (build.length > 0) lines.push(`${plural(build.length, 'derivation')} would be built:`, ...build.map((n) => `  ${n.drvPath}${took(n)}`));
  if (fetch.length > 0) lines.push(`${plural(fetch.length, 'file')} would be fetched:`, ...fetch.map((n) => `  ${n.outputs.out ?? Object.values(n.outputs)[0]}`));
  if (reused.length > 0) {
    const bytes = reused.flatMap((n) => Object.values(n.outputs)).reduce((sum, p) => sum + (store.queryInfo(p)?.narSize ?? 0), 0);
    lines.push(`${plural(reused.length, 'derivation is', 'derivations are')} already valid (${formatBytes(bytes)}), nothing to do for them`);
  }
  if (notNeeded.length > 0) {
    lines.push(`${plural(notNeeded.length, 'derivation is', 'derivations are')} not needed (inputs of valid outputs only):`, ...notNeeded.map((n) => `  ${n.drvPath}`));
  }
  if (todo.length === 0) lines.push('nothing to build or fetch');
  return lines.join('\n') + '\n';
}

/** What one TARGET argument asks for. */
type Wanted =
  | { kind: 'derivations'; derivations: Derivation[] }
  /** A `.drv` in the store, built from the store's `.drv` files without a module. */
  | { kind: 'drv'; drvPath: string }
  /** An output path that is already valid: nothing to do but print and link it. */
  | { kind: 'valid'; path: string };

/**
 * Names go to the module; store paths (or links to them, ./result) are taken as Nix
 * takes them: a `.drv` is built from the store, a valid output is already realized,
 * an output that is not valid is built from the module's derivation that has it.
 * The module is loaded only when something needs it.
 */
async function resolveWanted(ctx: CliContext, store: Store, targets: string[], file: string | undefined): Promise<Wanted[]> {
  let mod: LoadedModule | undefined;
  const module = async () => (mod ??= await openModule(ctx, store, file));
  const out: Wanted[] = [];
  for (const t of targets) {
    if (!looksLikePath(t)) {
      out.push({ kind: 'derivations', derivations: resolveTarget(await module(), t).derivations });
      continue;
    }
    const storePath = storePathOf(store, t);
    if (storePath === undefined) {
      throw new UsageError(`${t} is neither a target name nor a path in (or a link into) the store ${store.dir}; \`slime targets\` lists the targets`);
    }
    if (storePath.endsWith('.drv')) {
      if (file !== undefined) out.push({ kind: 'derivations', derivations: resolveTarget(await module(), storePath).derivations });
      else out.push({ kind: 'drv', drvPath: storePath });
    } else if (store.isValid(storePath)) {
      out.push({ kind: 'valid', path: storePath });
    } else {
      const d = allDerivations(await module()).find((x) => Object.values(x.outputs).includes(storePath));
      if (d === undefined) throw new UsageError(`${storePath} is not valid and no derivation of the module produces it; pass its .drv path, or -f the module that declares it`);
      out.push({ kind: 'derivations', derivations: [d] });
    }
  }
  return out;
}

/** Both graphs in dependency order, each derivation once. */
function mergeNodes(a: GraphNode[], b: GraphNode[]): GraphNode[] {
  const seen = new Set(a.map((n) => n.drvPath));
  return [...a, ...b.filter((n) => !seen.has(n.drvPath))];
}

type Tell = (level: 'error' | 'note', message: string, exitCode?: number) => void;

/** The closing lines: `error: ...` on stderr, or with `--log-format json` one `message` event each, so stderr stays JSON. */
function teller(format: LogFormat, ctx: CliContext): Tell {
  return (level, message, exitCode) => {
    if (format !== 'json') ctx.stderr.write(`${level}: ${message}\n`);
    else ctx.stderr.write(`${JSON.stringify({ type: 'message', time: Date.now(), level, message, ...(exitCode !== undefined ? { exitCode } : {}) } satisfies SlimeEvent)}\n`);
  };
}

function reportFailures(summary: RealizeSummary, keepGoing: boolean, tell: Tell): void {
  for (const f of summary.failed) {
    const where = f.failure.logPath ? `; log: ${f.failure.logPath} (or \`slime log ${f.name}\`)` : '';
    const kept = f.failure.keptBuildDir ? `; build directory kept at ${f.failure.keptBuildDir}` : '';
    const phase = f.failure.phase ? ` during ${f.failure.phase}` : '';
    tell('error', `${f.name} failed${phase}: ${describeFailure(f.failure.reason)}${where}${kept}`, f.failure.exitCode);
  }
  if (summary.skipped > 0) {
    tell('error', `${plural(summary.skipped, 'derivation was', 'derivations were')} not built because a dependency failed`);
  }
  if (summary.cancelled > 0 && !keepGoing && summary.failed.length > 0) {
    const n = plural(summary.cancelled, 'derivation was', 'derivations were');
    tell('note', `${n} cancelled when ${summary.failed[0]!.name} failed; \`slime realize --keep-going\` (-k) builds everything that does not depend on a failure`);
  }
}

/**
 * The code of the first failure, whatever failed or was cancelled after it: cancelled
 * builds never count, so a run that stops on one failure always exits with its code.
 */
export function exitCodeOf(summary: RealizeSummary): number {
  const first = summary.failed[0];
  if (first !== undefined) return first.failure.exitCode;
  return summary.skipped > 0 || summary.cancelled > 0 ? ExitCode.buildFailed : ExitCode.ok;
}

/** `result`, `result-2`, ...: each link is an indirect gc root while it exists. */
function makeResultLinks(store: Store, outPaths: string[], base: string, dir: string): void {
  outPaths.forEach((p, i) => addResultLink(store, p, path.resolve(dir, i === 0 ? base : `${base}-${i + 1}`)));
}

const command: Command = { summary: 'build targets and link their outputs as ./result', help, run };
export default command;
