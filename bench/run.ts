/**
 * `npm run bench`: every benchmark of the project, one after the other, each printing
 * figures that compare slime with a reference measured in the same run.
 *
 *   npm run bench                         all of them, full size (~10 minutes on 2 cores)
 *   npm run bench -- --quick              CI-size smoke: small inputs, few repetitions
 *   npm run bench -- --only graph,hash    some of them (names: see --list)
 *   npm run bench -- --json FILE          also write the figures as JSON
 *
 * bench/README.md says how to read the table. Exit status: 0 when every benchmark ran
 * (whether or not targets were met: a benchmark measures, it does not judge), 1 when
 * one failed to run.
 */
import fs from 'node:fs';
import type { Benchmark, Figure } from './lib.js';

// React's development build is several times slower; slime ships the production one.
process.env.NODE_ENV ??= 'production';

/**
 * In the order they run. The cache benchmark last: it leaves gigabytes of small files,
 * deleted in the background (bench/cache.ts), and every benchmark after it ran during
 * that deletion.
 */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  cli: async () => (await import('./cli-start.js')).cliStartBenchmark,
  graph: async () => (await import('./graph.js')).graphBenchmark,
  hash: async () => (await import('./hash.js')).hashBenchmark,
  'nar-memory': async () => (await import('./nar-memory.js')).narMemoryBenchmark,
  tui: async () => (await import('./tui-throughput.js')).tuiBenchmark,
  cache: async () => (await import('./cache.js')).cacheBenchmark,
};

interface Args {
  quick: boolean;
  only: string[];
  json?: string;
}

function parse(argv: string[]): Args | 'list' {
  const args: Args = { quick: false, only: Object.keys(BENCHMARKS) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--list') return 'list';
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      const names = (value ?? '').split(',').filter(Boolean);
      const unknown = names.filter((n) => !(n in BENCHMARKS));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(`--only: unknown benchmark "${unknown.join(',') || value || ''}"; the benchmarks are ${Object.keys(BENCHMARKS).join(', ')}`);
      }
      args.only = names;
    } else if (a === '--json') {
      args.json = argv[++i];
      if (!args.json) throw new Error('--json needs a FILE to write the figures to');
    } else throw new Error(`unknown option "${a}"; use --quick, --only NAME[,NAME], --json FILE or --list`);
  }
  return args;
}

function format(value: number, unit: Figure['unit']): string {
  if (unit === 's') return `${value.toFixed(2)} s`;
  if (unit === 'ms') return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
  if (unit === '%') return `${value.toFixed(2)} %`;
  return `${value.toFixed(2)} ${unit}`;
}

const mb = (x: number | undefined) => (x === undefined ? '' : `${x.toFixed(0)} MiB`);

function verdict(f: Figure): string {
  if (f.target?.ratio !== undefined && f.reference) {
    const met = f.slime / f.reference.value <= f.target.ratio ? 'met' : 'MISSED';
    // The target inside the interval: this run cannot tell which side of it the ratio is on.
    const unsettled = f.ratioInterval !== undefined && f.ratioInterval.low <= f.target.ratio && f.target.ratio <= f.ratioInterval.high;
    return unsettled ? `${met}, not settled` : met;
  }
  if (f.target?.max !== undefined) return f.slime <= f.target.max ? 'met' : 'MISSED';
  return '';
}

function targetText(f: Figure): string {
  if (f.target?.ratio !== undefined) return `ratio <= ${f.target.ratio}`;
  if (f.target?.max !== undefined) return `<= ${format(f.target.max, f.unit)}`;
  return '';
}

function table(rows: Figure[]): string {
  const header = ['figure', 'slime', 'cpu', 'peak RSS', 'reference (same run)', 'cpu', 'peak RSS', 'ratio', 'cpu ratio', 'target', ''];
  const cpu = (x: number | undefined) => (x === undefined ? '' : format(x, 'ms'));
  const cells = rows.map((f) => [
    f.name,
    format(f.slime, f.unit),
    cpu(f.slimeCpuMs),
    mb(f.slimeRssMb),
    f.reference ? `${f.reference.label}: ${format(f.reference.value, f.unit)}` : '',
    cpu(f.reference?.cpuMs),
    mb(f.reference?.rssMb),
    f.reference && f.reference.value > 0 ? `${(f.slime / f.reference.value).toFixed(2)}x${f.ratioInterval ? ` [${f.ratioInterval.low.toFixed(2)}, ${f.ratioInterval.high.toFixed(2)}]` : ''}` : '',
    f.slimeCpuMs !== undefined && f.reference?.cpuMs ? `${(f.slimeCpuMs / f.reference.cpuMs).toFixed(2)}x` : '',
    targetText(f),
    verdict(f),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === 4 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.filter((f) => f.note).map((f) => `  ${f.name}: ${f.note}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

async function main(): Promise<number> {
  let args: Args | 'list';
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  if (args === 'list') {
    for (const [name, load] of Object.entries(BENCHMARKS)) console.log(`${name.padEnd(11)} ${(await load()).description}`);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const all: Figure[] = [];
  let failed = 0;
  const started = Date.now();
  console.log(`slime benchmarks${args.quick ? ' (quick)' : ''}: ${args.only.join(', ')}; node ${process.version}, ${(await import('node:os')).availableParallelism()} cores, load ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
  for (const name of args.only) {
    const bench = await BENCHMARKS[name]();
    process.stderr.write(`[${name}] ${bench.description}\n`);
    try {
      const t0 = Date.now();
      const figures = await bench.run({ quick: args.quick, log });
      log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      all.push(...figures);
    } catch (e) {
      failed++;
      process.stderr.write(`error: benchmark ${name} failed: ${(e as Error).message}\n`);
    }
  }
  console.log('');
  console.log(table(all));
  console.log('');
  console.log(
    `ratio = slime / reference in wall time [95 % bootstrap interval, where the rounds give one], cpu ratio in user+system CPU time (lower is better); "not settled": the target is inside the interval; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  );
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(all, null, 1) + '\n');
  return failed ? 1 : 0;
}

process.exitCode = await main();
