import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ExitCode, SlimeError, UsageError } from '../../errors.js';
import { resolveTarget, type LoadedModule } from '../../derivation/load.js';
import { planGraph, type GraphNode } from '../../scheduler/plan.js';
import { realizeGraph } from '../../scheduler/scheduler.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import type { Store } from '../../store/store.js';
import { appendRunRecord, runsOfScript } from '../../store/run-records.js';
import { analyzeScript } from '../../router/signals.js';
import { route, type Decision, type Platform, type Tier } from '../../router/policy.js';
import { summarizeRuns } from '../../router/profile.js';
import { runScript, shellStatus, type TierCommand } from '../../router/run-script.js';
import { fullTierOf, lightTierOf, type RealizedTier } from '../../router/tiers.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, openModule, openStoreAfter } from '../options.js';

const help = `Usage: slime run [options] SCRIPT.py [ARGS...]

Runs a Python script on the Full tier (the isolate: native, fastest) or the Light tier
(CPython on wasm32-wasi under wasmtime: portable, sandboxed, slower), realizing the tier
first if it is not in the store. argv, stdin, stdout, stderr and the exit status pass
through unchanged. Everything after SCRIPT.py is the script's own argv.

With --tier auto (the default) the router decides, soundness first:
  - the script's AST (parsed by the Full tier's CPython 3.11): output that may depend on
    exception text, dynamic code (eval/exec/computed imports), imports the Light tier
    lacks (found by importing them there), a program that the Light tier's sample
    comparison found different, or a syntax error -> Full; a hot loop (large constant
    range, nested loops, while True) -> Full, for speed;
  - the profile: a script whose earlier Light run took longer than --budget-ms -> Full;
  - otherwise Light.
On --platform wasm only Light may run; a script it cannot run soundly is refused.

Options:
      --tier T          auto (default), full or light
      --platform P      native (default) or wasm: where the script must be able to run
      --budget-ms N     a Light run slower than this sends the script to Full next time (default 1000)
      --explain         print the decision and every reason; run nothing
      --json            with --explain: the decision as JSON
      --full TARGET     the Full tier's target (default: $SLIME_RUN_FULL, else full-x86_64)
      --light TARGET    the Light tier's target (default: $SLIME_RUN_LIGHT, else light-wasm32)
${COMMON_HELP}

Each run is recorded in the store (tier, reasons, wall time, exit status): the profile the
router learns from, and the recent runs \`slime tui\` shows.

Exit status: the script's own (128+N when a signal N ended it); 2 a usage error; 1 when
the router refuses the script or a tier cannot be realized.`;

interface RunOptions {
  tier: Tier | 'auto';
  platform: Platform;
  budgetMs: number;
  explain: boolean;
  json: boolean;
  fullTarget: string;
  lightTarget: string;
  store?: string;
  file?: string;
  script: string;
  scriptArgs: string[];
}

const VALUE_OPTIONS = new Set(['--tier', '--platform', '--budget-ms', '--full', '--light', '--store', '--file', '-f']);
const FLAG_OPTIONS = new Set(['--explain', '--json']);

/** slime's options stop at the script: whatever follows it is the script's argv, dashes included. */
export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv): RunOptions {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (FLAG_OPTIONS.has(name) && eq < 0) {
      flags.add(name);
    } else if (VALUE_OPTIONS.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`option ${name} needs a value; see \`slime run --help\``);
      values[name === '-f' ? '--file' : name] = value;
    } else {
      throw new UsageError(`unknown option ${a} before the script; slime's options come before SCRIPT.py, the script's after it (see \`slime run --help\`)`);
    }
  }
  const script = args[i];
  if (script === undefined) throw new UsageError('slime run needs a SCRIPT.py to run; see `slime run --help`');
  const tier = values['--tier'] ?? 'auto';
  if (tier !== 'auto' && tier !== 'full' && tier !== 'light') throw new UsageError(`--tier must be auto, full or light, not "${tier}"`);
  const platform = values['--platform'] ?? 'native';
  if (platform !== 'native' && platform !== 'wasm') throw new UsageError(`--platform must be native or wasm, not "${platform}"`);
  const budget = values['--budget-ms'] ?? '1000';
  const budgetMs = Number(budget);
  if (!Number.isFinite(budgetMs) || budgetMs <= 0) throw new UsageError(`--budget-ms must be a positive number of milliseconds, not "${budget}"`);
  if (flags.has('--json') && !flags.has('--explain')) throw new UsageError('--json goes with --explain');
  return {
    tier,
    platform,
    budgetMs,
    explain: flags.has('--explain'),
    json: flags.has('--json'),
    fullTarget: values['--full'] ?? env.SLIME_RUN_FULL ?? 'full-x86_64',
    lightTarget: values['--light'] ?? env.SLIME_RUN_LIGHT ?? 'light-wasm32',
    store: values['--store'],
    file: values['--file'],
    script,
    scriptArgs: args.slice(i + 1),
  };
}

/** Builds what the tier's target needs unless it is all valid already; quiet when nothing is to do. */
async function realizeTarget(ctx: CliContext, store: Store, mod: LoadedModule, target: string): Promise<GraphNode[]> {
  const resolved = resolveTarget(mod, target);
  const nodes = planGraph(resolved.derivations);
  if (nodes.every((n) => Object.values(n.outputs).every((o) => store.isValid(o)))) return nodes;
  ctx.stderr.write(`slime run: realizing ${target} first\n`);
  const { plainLogger } = await import('../../logging/plain.js');
  const logger = plainLogger(ctx.stderr);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await realizeGraph(nodes, {
      store, events: logger, targets: [target], roots: resolved.derivations.map((d) => d.drvPath),
      jobs: defaultCores(), cores: defaultCores(), keepGoing: false, keepFailed: false, signal: abort.signal,
    });
    if (abort.signal.aborted) throw new SlimeError(`interrupted while realizing ${target}; nothing was run`, ExitCode.interrupted);
    if (summary.failed.length > 0 || summary.skipped > 0) {
      throw new SlimeError(`cannot run the script: realizing ${target} failed (see above); fix that build or pick another tier with --tier`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await logger.close?.();
  }
  return nodes;
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(fs.realpathSync(dir), fs.realpathSync(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function formatDecision(decision: Decision, script: string): string {
  const head = decision.tier === 'refused' ? `refused: ${decision.why}` : `tier: ${decision.tier}`;
  const lines = [`${script}: ${head}`];
  for (const r of decision.reasons) {
    const mark = r.effect === 'needs-full' ? '!' : r.effect === 'prefers-full' ? '>' : '-';
    lines.push(`  ${mark} ${r.kind}${r.line ? ` (line ${r.line})` : ''}: ${r.detail}`);
  }
  if (decision.reasons.length === 0) lines.push('  (no reasons)');
  return lines.join('\n') + '\n';
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const opts = parseRunArgs(args, ctx.env);
  const script = path.resolve(process.cwd(), opts.script);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(script);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory; slime run takes one Python file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read script ${opts.script}: ${why}`);
  }
  const scriptHash = createHash('sha256').update(bytes).digest('hex');
  const { store, prepared: mod } = await openStoreAfter(ctx, opts.store, (s) => openModule(ctx, s, opts.file));

  // The Full tier's CPython parses the script even when Light runs it.
  const full = fullTierOf(await realizeTarget(ctx, store, mod, opts.fullTarget), opts.fullTarget);
  const analysis = analyzeScript(full.python, script);

  let light: RealizedTier | undefined;
  if (opts.tier !== 'full') {
    const declared = mod.targets.some((t) => t.name === opts.lightTarget);
    if (declared || opts.tier === 'light' || opts.platform === 'wasm' || opts.lightTarget !== 'light-wasm32') {
      light = lightTierOf(await realizeTarget(ctx, store, mod, opts.lightTarget), opts.lightTarget, store, full.python);
    }
    // else: this module declares no Light tier; auto routes to Full and says why.
  }
  const decision = route({
    requested: opts.tier,
    platform: opts.platform,
    budgetMs: opts.budgetMs,
    scriptHash,
    scriptInWorkingDir: isInside(script, process.cwd()),
    analysis,
    light: light?.capabilities,
    profile: summarizeRuns(runsOfScript(store, scriptHash)),
  });

  if (opts.explain) {
    ctx.stdout.write(opts.json ? JSON.stringify({ script, scriptHash, ...decision }, null, 1) + '\n' : formatDecision(decision, opts.script));
    return decision.tier === 'refused' ? ExitCode.failure : ExitCode.ok;
  }
  if (decision.tier === 'refused') {
    ctx.stderr.write(formatDecision(decision, opts.script));
    throw new SlimeError(`${opts.script} was not run: ${decision.why}`);
  }
  const tier = decision.tier === 'full' ? full : light!;
  // The script path as the user typed it: the tier runs in the same working directory, and sys.argv[0] must be what python3.11 would see.
  const command: TierCommand = tier.command(opts.script, opts.scriptArgs);
  const result = await runScript(command, process.cwd());
  appendRunRecord(store, {
    time: Date.now(),
    scriptHash,
    script,
    tier: decision.tier,
    requested: opts.tier,
    reasons: decision.reasons,
    wallMs: Math.round(result.wallMs * 10) / 10,
    exitCode: result.exitCode,
    signal: result.signal,
    budgetMs: opts.budgetMs,
  });
  return shellStatus(result);
}

const command: Command = { summary: 'run a Python script on the tier the router picks (Full or Light)', help, run };
export default command;
