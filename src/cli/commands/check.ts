import { ExitCode, SlimeError, UsageError } from '../../errors.js';
import type { EventSink } from '../../events.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import { ensureSandboxWorks, sandboxWanted } from '../../builder/sandbox.js';
import { describeFailure } from '../../run/failure.js';
import { checkGraph, narHashText, requireDiffoscope, type CheckSummary } from '../../check/check.js';
import { describeDifference } from '../../check/diff-report.js';
import type { FileDifference } from '../../check/diff-tree.js';
import { resolveTarget } from '../../derivation/load.js';
import { planGraph } from '../../scheduler/plan.js';
import type { CheckRecord } from '../../store/checks.js';
import { acquireLock } from '../../store/lock.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStoreAfter, parseCommandArgs, positiveInt } from '../options.js';
import { formatDuration } from '../../run/format.js';

const help = `Usage: slime check TARGET|DRV... [options]

Builds every derivation of TARGET again and compares the result with the output in
the store, as nix-store --check does: the same build directory, the same environment,
a temporary output that never enters the store. What is not built yet is built first.
A difference is explained file by file: size and first differing byte, and by format:
ELF sections, ar archive members, tar members, .pyc header fields or code object, a
unified diff of text; files only on one side; executable bits; symlink targets.

A derivation that declares itself nondeterministic (a PGO profile) is rebuilt and
compared too; its differences are reported as expected and do not fail the check.
Fetched files are re-hashed against their declared hash, not fetched again. The
result of each derivation's check is recorded in the store (shown by slime targets).

Options:
      --rounds N        build each derivation N more times (default 1)
  -K, --keep-failed     keep a differing rebuild beside the output as <out>.check
      --diffoscope      add diffoscope's text and HTML reports of differing outputs
                        (Debian's diffoscope-minimal must be installed)
      --against URL     rebuild nothing: compare each output's NAR hash with the
                        NarHash of the binary cache at URL (file:// or http(s)://)
      --only            check only the derivations named (a target's own ones), not
                        the derivations they depend on
      --skip-declared   do not rebuild derivations that declare themselves
                        nondeterministic (a PGO profile): reported as skipped
      --json            print the check records as JSON on stdout
  -j, --jobs N          builds at once while realizing what is missing (default: cores)
      --cores N         cores each build may use, $NIX_BUILD_CORES (default: all)
      --timeout SECS    end any build that runs longer (exit 101)
      --log-format FMT  plain (default) or json: progress events on stderr
      --no-sandbox      run builders without the build sandbox (also SLIME_SANDBOX=0);
                        a check compares like with like: use what the build used
${COMMON_HELP}

Exit codes: 0 every rebuild was equal (or expected to differ); 104 an output differs;
100 a build failed; 101 a build timed out; 130 interrupted (nothing is left behind
but the check's log); 2 usage error; 1 other errors.`;

const options = {
  ...commonOptions,
  rounds: { type: 'string' },
  'keep-failed': { type: 'boolean', short: 'K' },
  diffoscope: { type: 'boolean' },
  against: { type: 'string' },
  json: { type: 'boolean' },
  'skip-declared': { type: 'boolean' },
  only: { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
  cores: { type: 'string' },
  timeout: { type: 'string' },
  'log-format': { type: 'string' },
  'no-sandbox': { type: 'boolean' },
} as const;

async function sinkFor(format: string | undefined, ctx: CliContext): Promise<EventSink> {
  if (format === 'json') return (await import('../../logging/json.js')).jsonLogger(ctx.stderr);
  if (format === undefined || format === 'plain') return (await import('../../logging/plain.js')).plainLogger(ctx.stderr);
  throw new UsageError(`--log-format must be plain or json for slime check, not "${format}"`);
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', args, options);
  if (positionals.length === 0) throw new UsageError('slime check needs at least one TARGET or .drv path; `slime targets` lists them');
  const rounds = positiveInt('--rounds', values.rounds, 1);
  const cores = positiveInt('--cores', values.cores, defaultCores());
  const jobs = positiveInt('--jobs', values.jobs, defaultCores());
  const timeoutMs = values.timeout === undefined ? undefined : positiveInt('--timeout', values.timeout, 0) * 1000;
  const against = values.against;
  if (against !== undefined && !/^(file|https?):\/\//.test(against)) {
    throw new UsageError(`--against ${against}: not a file:// or http(s):// URL; give a binary cache URL such as file:///srv/cache`);
  }
  if (against !== undefined && (values['keep-failed'] || values.diffoscope || values.rounds)) {
    throw new UsageError('--against compares with a cache and rebuilds nothing: it cannot be combined with --rounds, --keep-failed or --diffoscope');
  }
  if (values.diffoscope) {
    try {
      requireDiffoscope();
    } catch (e) {
      throw new SlimeError((e as Error).message);
    }
  }
  const sandbox = sandboxWanted(values['no-sandbox'], ctx.env);
  if (sandbox && against === undefined) ensureSandboxWorks();
  const display = await sinkFor(values['log-format'], ctx);

  const { store, prepared: roots } = await openStoreAfter(ctx, values.store, async (s) => {
    const mod = await openModule(ctx, s, values.file);
    return positionals.flatMap((t) => resolveTarget(mod, t).derivations);
  });
  const storeLock = await acquireLock(store.globalLockFile, { shared: true });
  try {
    const nodes = planGraph(roots);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let summary: CheckSummary;
    try {
      summary = await checkGraph(nodes, {
        store,
        events: display,
        targets: positionals,
        roots: roots.map((r) => r.drvPath),
        rounds,
        keepFailed: Boolean(values['keep-failed']),
        jobs,
        cores,
        signal: abort.signal,
        timeoutMs,
        diffoscope: Boolean(values.diffoscope),
        against,
        skipNondeterministic: Boolean(values['skip-declared']),
        only: Boolean(values.only),
        sandbox,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await display.close?.();
    }
    if (summary.interrupted) {
      ctx.stderr.write('error: interrupted; the rebuild was stopped and nothing of it was kept\n');
      return ExitCode.interrupted;
    }
    if (summary.realize.failed.length > 0 || summary.realize.skipped > 0) {
      for (const f of summary.realize.failed) {
        ctx.stderr.write(`error: ${f.name} could not be built before checking it: ${describeFailure(f.failure.reason)}${f.failure.logPath ? `; log: ${f.failure.logPath}` : ''}\n`);
      }
      return summary.realize.failed[0]?.failure.exitCode ?? ExitCode.buildFailed;
    }
    if (values.json) ctx.stdout.write(JSON.stringify(summary.records, null, 1) + '\n');
    else for (const r of summary.records) ctx.stdout.write(describeRecord(r).join('\n') + '\n');
    ctx.stderr.write(totals(summary.records) + '\n');
    return exitCodeOf(summary.records, against);
  } finally {
    await storeLock.release();
  }
}

const VERDICT_TEXT: Record<CheckRecord['verdict'], string> = {
  equal: 'equal',
  differs: 'DIFFERS',
  'expected-to-differ': 'differs, as expected',
  skipped: 'not rebuilt: declared nondeterministic',
  'fixed-output-ok': 'fixed-output file re-hashed: matches its declared hash',
  failed: 'REBUILD FAILED',
  'cache-equal': 'equal to the cache',
  'cache-differs': 'DIFFERS from the cache',
  'not-in-cache': 'not in the cache',
};

/** How many differing files an expected difference lists (the PGO profile has hundreds). */
const EXPECTED_SHOWN = 5;

export function describeRecord(r: CheckRecord): string[] {
  const times = r.roundMs.length ? ` (${r.roundMs.length === 1 ? '1 round' : `${r.roundMs.length} rounds`}: ${r.roundMs.map(formatDuration).join(', ')})` : '';
  const lines = [`${r.name}: ${VERDICT_TEXT[r.verdict]}${times}`];
  if (r.nondeterministic && r.verdict !== 'equal' && r.verdict !== 'skipped') lines.push(`  declared nondeterministic: ${r.nondeterministic}`);
  if (r.error) lines.push(`  ${r.error}`);
  for (const [name, o] of Object.entries(r.outputs)) {
    const differs = o.rebuilt.some((h) => h !== o.narHash) || o.differences;
    if (r.against) {
      lines.push(`  ${name} ${o.path}: local ${narHashText(o.narHash)}, ${o.rebuilt.length ? `cache ${o.rebuilt[0]}` : 'no narinfo in the cache'}`);
      continue;
    }
    if (!differs) continue;
    lines.push(`  ${name} ${o.path}: stored ${o.narHash}, rebuilt ${o.rebuilt.join(', ')}`);
    const diffs = (o.differences ?? []) as FileDifference[];
    const total = diffs.length + (o.differencesCut ?? 0);
    lines.push(`  ${total} file${total === 1 ? '' : 's'} differ${total === 1 ? 's' : ''}:`);
    const shown = r.verdict === 'expected-to-differ' ? diffs.slice(0, EXPECTED_SHOWN) : diffs;
    for (const d of shown) lines.push(...describeDifference(d).map((l) => `    ${l}`));
    if (shown.length < total) lines.push(`    ... and ${total - shown.length} more (slime check --json lists ${diffs.length === total ? 'them all' : `${diffs.length} of them`})`);
    if (o.keptAt) lines.push(`  the rebuild is kept at ${o.keptAt}`);
  }
  for (const d of r.diffoscope ?? []) lines.push(`  diffoscope: ${d.text} (HTML: ${d.html})`);
  return lines;
}

function totals(records: CheckRecord[]): string {
  const count = new Map<string, number>();
  for (const r of records) count.set(r.verdict, (count.get(r.verdict) ?? 0) + 1);
  const parts = [...count].map(([v, n]) => `${n} ${VERDICT_TEXT[v as CheckRecord['verdict']].split(':')[0].toLowerCase()}`);
  return `slime check: ${records.length} derivation${records.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function exitCodeOf(records: CheckRecord[], against: string | undefined): number {
  if (records.some((r) => r.verdict === 'differs' || r.verdict === 'cache-differs')) return ExitCode.notDeterministic;
  if (records.some((r) => r.verdict === 'failed')) return ExitCode.buildFailed;
  if (against !== undefined && !records.some((r) => r.verdict === 'cache-equal')) {
    throw new SlimeError(`the cache at ${against} has none of these outputs, so nothing was compared; push them there first or check another cache`);
  }
  return ExitCode.ok;
}

const command: Command = { summary: 'rebuild and compare: is every output reproducible?', help, run };
export default command;
