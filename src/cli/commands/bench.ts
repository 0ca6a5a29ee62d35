import fs from 'node:fs';
import path from 'node:path';
import { SlimeError, UsageError } from '../../errors.js';
import { resolveTarget } from '../../derivation/load.js';
import { planGraph } from '../../scheduler/plan.js';
import { VALGRIND } from '../../bench/cachegrind.js';
import { Harness } from '../../bench/harness.js';
import { otherLightRunners } from '../../bench/light-runners.js';
import { benchDir, countInstructions, formatBenchTable, runBench, saveBench, type BenchResult, type CountRow, type Interpreter, type Workload } from '../../bench/run-bench.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStoreAfter, parseCommandArgs, positiveInt } from '../options.js';

const help = `Usage: slime bench TARGET [options]

Times the seed reports' comparison for a realized TARGET (one that compares an
isolate's samples, e.g. full-x86_64-quick): the pure int loop (M=3,000,000), the dynamic
workload (M=1,000,000), start-up alone (an empty script) and every sample launch to
exit, under Debian's python3.11, the store's python3.11 and the isolate. Runs are
interleaved; warm-ups are discarded. Per workload and interpreter it prints the spread
of wall time (min / median / max) and the median user+system CPU time of the process
(from wait4), each median's ratio to Debian's python3.11 measured in the same rounds,
and a 95% bootstrap interval of that ratio.

Then it counts instructions with valgrind's cachegrind (simulated CPU: the counts do
not move with the machine's load), once per interpreter, at smaller sizes (pure int
loop M=300,000, dynamic workload M=100,000, start-up).

Timings are impure, so they never become store outputs: each result, every run's
figures included, is kept with its timestamp in <store>/.slime/bench/ (the TUI shows
the latest); the last cachegrind output files in <store>/.slime/bench/TARGET-cachegrind/.

For a Light tier target (light-wasm32) the isolate's place is taken by each of the
target's runners (CPython-wasi under wasmtime with and without AOT, under Node), and
every other Light runner already built in the store (RustPython native and wasm, once
light-rustpython is realized); samples are left out unless --samples.

Options:
      --reps N          measured runs per workload and interpreter (default 15)
      --warmups N       discarded runs first (default 3)
      --sample-reps N   measured runs per sample (default 5)
      --no-samples      time only the two workloads
      --no-cachegrind   skip the instruction counts
      --samples         time every sample too (the default except for Light targets)
      --reference PATH  the reference interpreter (default /usr/bin/python3.11)
      --also LABEL=PATH  another interpreter to compare in the same rounds, such as
                        another isolate (repeatable)
${COMMON_HELP}`;

const options = {
  ...commonOptions,
  reps: { type: 'string' },
  warmups: { type: 'string' },
  'sample-reps': { type: 'string' },
  'no-samples': { type: 'boolean' },
  'no-cachegrind': { type: 'boolean' },
  samples: { type: 'boolean' },
  reference: { type: 'string' },
  also: { type: 'string', multiple: true },
} as const;

interface Manifest {
  samples: { name: string; file: string; args: string[] }[];
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('bench', args, options);
  if (positionals.length !== 1) throw new UsageError('slime bench takes exactly one TARGET');
  const targetName = positionals[0];
  const { store, prepared } = await openStoreAfter(ctx, values.store, async (s) => {
    const mod = await openModule(ctx, s, values.file);
    return { mod, graph: planGraph(resolveTarget(mod, targetName).derivations) };
  });
  const { mod, graph } = prepared;
  const comparison = graph.find((n) => n.comparesSamples === true && n.drv.env.samples !== undefined);
  if (!comparison) throw new UsageError(`target ${targetName} compares no isolate's samples, so there is nothing to time; try full-x86_64-quick`);
  const { python, isolate, samples } = comparison.drv.env;
  // A Light tier launcher (derivations/light/launcher.sh) names itself in runnerLabel.
  const runners = graph.filter((n) => n.drv.env.runnerLabel !== undefined && n.drv.env.runtime !== undefined);
  const light = isolate === undefined && runners.length > 0;
  const candidates: Interpreter[] = light
    ? runners.map((n) => ({ label: n.drv.env.runnerLabel, command: path.join(n.outputs.out, 'bin/python3.11') }))
    : [{ label: 'isolate', command: path.join(isolate, 'bin/isolate') }];
  for (const p of [python, ...(light ? runners.map((n) => n.outputs.out) : [isolate])]) {
    if (!store.isValid(p)) throw new SlimeError(`${p} is not built yet; run \`slime realize ${targetName}\` first`);
  }
  if (light) {
    const others = otherLightRunners(mod, new Set(graph.map((n) => n.drvPath)), store);
    candidates.push(...others.built);
    if (others.missing.length > 0) ctx.stderr.write(`bench: not built, left out: ${others.missing.join(', ')}\n`);
  }
  const reference = values.reference ?? '/usr/bin/python3.11';
  if (!fs.existsSync(reference)) throw new SlimeError(`the reference interpreter ${reference} does not exist; install python3.11 (the setup does) or pass --reference`);
  const interpreters: Interpreter[] = [
    { label: 'python3.11 (Debian)', command: reference },
    { label: 'python3.11 (store)', command: path.join(python, 'bin/python3.11') },
    ...candidates,
  ];
  for (const spec of values.also ?? []) {
    const eq = spec.indexOf('=');
    const label = spec.slice(0, eq).trim();
    const command = spec.slice(eq + 1);
    if (eq < 1 || !label || !path.isAbsolute(command)) throw new UsageError(`--also ${JSON.stringify(spec)} is not LABEL=/absolute/path; e.g. --also 'isolate (BOLT)=/store/...-isolate-3.11.2-quick-bolt/bin/isolate'`);
    if (interpreters.some((i) => i.label === label)) throw new UsageError(`--also ${JSON.stringify(spec)}: the label ${label} is taken; pick another`);
    if (!fs.existsSync(command)) throw new SlimeError(`--also ${label}: ${command} does not exist; realize it first`);
    interpreters.push({ label, command });
  }
  const workloadsDir = path.join(ctx.cwd, 'bench/workloads');
  const workload = (name: string, kind: string, file: string, args: string[]): Workload => ({
    name, kind, script: path.join(workloadsDir, file), args, cwd: workloadsDir, expectStatus: 0,
  });
  for (const file of ['pure_int_loop.py', 'dynamic_workload.py', 'startup.py']) {
    if (!fs.existsSync(path.join(workloadsDir, file))) throw new SlimeError(`${path.join(workloadsDir, file)} does not exist; run slime bench from the project's root directory`);
  }
  const workloads: Workload[] = [
    workload('pure int loop, M=3,000,000', 'pure', 'pure_int_loop.py', ['3000000']),
    workload('dynamic workload, M=1,000,000', 'dynamic', 'dynamic_workload.py', ['1000000']),
    workload('start-up, empty script', 'startup', 'startup.py', []),
  ];
  const reps = positiveInt('--reps', values.reps, 15);
  const warmups = values.warmups === '0' ? 0 : positiveInt('--warmups', values.warmups, 3);
  const sampleReps = positiveInt('--sample-reps', values['sample-reps'], 5);
  if (!values['no-cachegrind'] && !fs.existsSync(VALGRIND)) {
    throw new SlimeError(`${VALGRIND} does not exist: the instruction counts need valgrind; install it (the setup does) or pass --no-cachegrind`);
  }
  const harness = new Harness();
  try {
    const main = await runBench({ target: targetName, interpreters, workloads, warmups, reps, harness, onProgress: (d, t, w) => ctx.stderr.write(`bench: [${d}/${t}] ${w}\n`) });
    let rows = main.rows;
    let timedSamples = false;
    const timeSamples = light ? Boolean(values.samples) : !values['no-samples'];
    if (timeSamples && samples && store.isValid(samples)) {
      const manifest = JSON.parse(fs.readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as Manifest;
      const sampleWorkloads: Workload[] = manifest.samples.map((s) => ({
        name: s.name, kind: 'sample', script: path.join(samples, s.file), args: s.args, cwd: path.dirname(path.join(samples, s.file)),
      }));
      const timed = await runBench({ target: targetName, interpreters, workloads: sampleWorkloads, warmups: 1, reps: sampleReps, harness,
        onProgress: (d, t, w) => { if (d % 10 === 0 || d === t) ctx.stderr.write(`bench: samples [${d}/${t}] ${w}\n`); } });
      rows = [...rows, ...timed.rows];
      timedSamples = true;
    }
    let counts: CountRow[] | undefined;
    if (!values['no-cachegrind']) {
      counts = await countInstructions({
        interpreters,
        workloads: [
          workload('pure int loop, M=300,000', 'pure', 'pure_int_loop.py', ['300000']),
          workload('dynamic workload, M=100,000', 'dynamic', 'dynamic_workload.py', ['100000']),
          workload('start-up, empty script', 'startup', 'startup.py', []),
        ],
        harness,
        workDir: path.join(benchDir(store), `${targetName}-cachegrind`),
        onProgress: (d, t, w) => ctx.stderr.write(`bench: cachegrind [${d}/${t}] ${w}\n`),
      });
    }
    const result: BenchResult = { ...main, rows, ...(timedSamples ? { sampleReps } : {}), ...(counts ? { counts } : {}) };
    const file = saveBench(store, result);
    ctx.stdout.write(formatBenchTable(result));
    ctx.stderr.write(`kept in ${file}\n`);
    return 0;
  } finally {
    harness.close();
  }
}

const command: Command = { summary: 'time the isolate against python3.11 (impure; results kept with a timestamp)', help, run };
export default command;
