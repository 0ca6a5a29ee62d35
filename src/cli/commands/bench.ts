import fs from 'node:fs';
import path from 'node:path';
import { SlimeError, UsageError } from '../../errors.js';
import { resolveTarget } from '../../derivation/load.js';
import { planGraph } from '../../scheduler/plan.js';
import { formatBenchTable, runBench, saveBench, type Interpreter, type Workload } from '../../bench/run-bench.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs, positiveInt } from '../options.js';

const help = `Usage: slime bench TARGET [options]

Times the seed reports' comparison for a realized TARGET (one that verifies an
isolate, e.g. full-x86_64-quick): the pure int loop (M=3,000,000), the dynamic
workload (M=1,000,000) and every sample launch-to-exit, under Debian's python3.11,
the store's python3.11 and the isolate. Runs are interleaved, warm-ups discarded, and
the median kept; ratios are against Debian's python3.11 measured in the same run.

For a Light tier target (light-wasm32) the isolate's place is taken by each of the
target's runners (CPython-wasi under wasmtime with and without AOT, under Node), and
start-up (an empty program) is timed too; samples are left out unless --samples.

Timings are impure, so they never become store outputs: each result is kept with its
timestamp in <store>/.slime/bench/ (the TUI shows the latest).

Options:
      --reps N          measured runs per workload and interpreter (default 15)
      --warmups N       discarded runs first (default 3)
      --sample-reps N   measured runs per sample (default 5)
      --no-samples      time only the two workloads
      --samples         time every sample too (the default except for Light targets)
      --reference PATH  the reference interpreter (default /usr/bin/python3.11)
${COMMON_HELP}`;

const options = {
  ...commonOptions,
  reps: { type: 'string' },
  warmups: { type: 'string' },
  'sample-reps': { type: 'string' },
  'no-samples': { type: 'boolean' },
  samples: { type: 'boolean' },
  reference: { type: 'string' },
} as const;

interface Manifest {
  samples: { name: string; file: string; args: string[] }[];
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('bench', args, options);
  if (positionals.length !== 1) throw new UsageError('slime bench takes exactly one TARGET');
  const targetName = positionals[0];
  const store = openStore(ctx, values.store);
  const mod = await openModule(ctx, store, values.file);
  const graph = planGraph(resolveTarget(mod, targetName).derivations);
  const verifyNode = graph.find((n) => n.phases === 'verify');
  if (!verifyNode) throw new UsageError(`target ${targetName} verifies no isolate, so there is nothing to compare; try full-x86_64-quick`);
  const { python, isolate, samples } = verifyNode.drv.env;
  // A Light tier launcher (derivations/light/launcher.sh) names itself in runnerLabel.
  const runners = graph.filter((n) => n.drv.env.runnerLabel !== undefined && n.drv.env.runtime !== undefined);
  const light = isolate === undefined && runners.length > 0;
  const candidates: Interpreter[] = light
    ? runners.map((n) => ({ label: n.drv.env.runnerLabel, command: path.join(n.outputs.out, 'bin/python3.11') }))
    : [{ label: 'isolate', command: path.join(isolate, 'bin/isolate') }];
  for (const p of [python, ...(light ? runners.map((n) => n.outputs.out) : [isolate])]) {
    if (!store.isValid(p)) throw new SlimeError(`${p} is not built yet; run \`slime realize ${targetName}\` first`);
  }
  const reference = values.reference ?? '/usr/bin/python3.11';
  if (!fs.existsSync(reference)) throw new SlimeError(`the reference interpreter ${reference} does not exist; install python3.11 (the setup does) or pass --reference`);
  const interpreters: Interpreter[] = [
    { label: 'python3.11 (Debian)', command: reference },
    { label: 'python3.11 (store)', command: path.join(python, 'bin/python3.11') },
    ...candidates,
  ];
  const workloadsDir = path.join(ctx.cwd, 'bench/workloads');
  const workloads: Workload[] = [
    ...(light ? [{ name: 'start-up (empty program)', kind: 'startup', script: path.join(workloadsDir, 'startup.py'), args: [], cwd: workloadsDir }] : []),
    { name: 'pure int loop, M=3,000,000', kind: 'pure', script: path.join(workloadsDir, 'pure_int_loop.py'), args: ['3000000'], cwd: workloadsDir },
    { name: 'dynamic workload, M=1,000,000', kind: 'dynamic', script: path.join(workloadsDir, 'dynamic_workload.py'), args: ['1000000'], cwd: workloadsDir },
  ];
  const reps = positiveInt('--reps', values.reps, 15);
  const warmups = values.warmups === '0' ? 0 : positiveInt('--warmups', values.warmups, 3);
  const main = await runBench({ target: targetName, interpreters, workloads, warmups, reps, onProgress: (d, t, w) => ctx.stderr.write(`bench: [${d}/${t}] ${w}\n`) });
  let rows = main.rows;
  const timeSamples = light ? Boolean(values.samples) : !values['no-samples'];
  if (timeSamples && samples && store.isValid(samples)) {
    const manifest = JSON.parse(fs.readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as Manifest;
    const sampleWorkloads: Workload[] = manifest.samples.map((s) => ({
      name: s.name, kind: 'sample', script: path.join(samples, s.file), args: s.args, cwd: path.dirname(path.join(samples, s.file)),
    }));
    const sampleReps = positiveInt('--sample-reps', values['sample-reps'], 5);
    const timed = await runBench({ target: targetName, interpreters, workloads: sampleWorkloads, warmups: 1, reps: sampleReps,
      onProgress: (d, t, w) => { if (d % 10 === 0 || d === t) ctx.stderr.write(`bench: samples [${d}/${t}] ${w}\n`); } });
    rows = [...rows, ...timed.rows];
  }
  const result = { ...main, rows };
  const file = saveBench(store, result);
  ctx.stdout.write(formatBenchTable(result));
  ctx.stderr.write(`kept in ${file}\n`);
  return 0;
}

const command: Command = { summary: 'time the isolate against python3.11 (impure; results kept with a timestamp)', help, run };
export default command;
