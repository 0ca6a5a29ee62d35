/**
 * What every benchmark of `npm run bench` shares: running a command as a child process
 * with its wall time and peak RSS (GNU time's `%M`), medians of interleaved repetitions,
 * and the figures the runner prints.
 *
 * A figure compares slime with a reference measured in the same run, one after the
 * other, alternating, so that a slow moment of a shared machine falls on both; each
 * round swaps which goes first (slime, reference; reference, slime; ...), so that
 * neither always runs right after the other (its page cache, its freed memory).
 * With enough rounds the figure also says how sure its ratio is: a bootstrap interval.
 */
import { spawnSync } from 'node:child_process';
import { execaSync } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapMedianRatio, median } from '../src/bench/stats.js';
import { storeDirFrom, type Store } from '../src/store/store.js';

export { median };

/** The project: two levels up from dist/bench/ (compiled), one from bench/ (the sources, as the tests import them). */
export const ROOT = [path.resolve(import.meta.dirname, '..'), path.resolve(import.meta.dirname, '../..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
/** The CLI as installed: package.json's bin, `bin/slime`, which runs the bundle (src/setup/bundle.ts). */
export const CLI = path.join(ROOT, 'bin/slime');
export const API = path.join(ROOT, 'src/derivation/api.ts');

/** The newest valid path of `store` whose name is `name` (`cpython-3.11.2-quick`): the store decides validity. */
export function newestValidPath(store: Store, name: string): string | undefined {
  return store
    .validPaths()
    .filter((i) => i.path.endsWith(`-${name}`))
    .sort((a, b) => b.registrationTime - a.registrationTime)[0]?.path;
}

/**
 * The store whose realized targets the benchmarks measure (the CPython quick output, the
 * full-x86_64 no-op, the cache's closure): SLIME_BENCH_STORE (if not empty), else the store `slime
 * realize` itself uses (SLIME_STORE, else store/ in the project), so that the README's
 * `npx slime realize full-x86_64` followed by `npm run bench` measures what it built.
 */
export function benchStoreDir(): string {
  return process.env.SLIME_BENCH_STORE || storeDirFrom(undefined, process.env, ROOT);
}

/** One measured quantity: slime's value, and the reference's in the same run. */
export interface Figure {
  /** What was measured, e.g. `graph: no-op realize (1000 derivations)`. */
  name: string;
  unit: 'ms' | 's' | 'MB/s' | '%' | 'x';
  slime: number;
  slimeRssMb?: number;
  /** CPU time (user + system) in ms, where it was measured: on a shared machine, steadier than wall time. */
  slimeCpuMs?: number;
  reference?: { label: string; value: number; rssMb?: number; cpuMs?: number };
  /** 95 % bootstrap interval of the wall-time ratio (SideBySide.ratioInterval), where the rounds give one. */
  ratioInterval?: RatioInterval;
  /** A target as a ratio (slime / reference) or, without a reference, an absolute value. */
  target?: { ratio?: number; max?: number };
  note?: string;
}

export interface BenchOptions {
  /** CI-size smoke run: small inputs, few repetitions. */
  quick: boolean;
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<Figure[]>;
}

export interface Measured {
  ms: number;
  rssMb: number;
  /** User + system CPU time of the process and its children. */
  cpuMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` under GNU time; throws with its stderr if it fails (unless `allowFail`). */
export function measure(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Measured {
  const timeFile = path.join(os.tmpdir(), `slime-bench-time-${process.pid}`);
  const start = performance.now();
  const r = execaSync('/usr/bin/time', ['-o', timeFile, '-f', '%M %U %S', cmd, ...args], {
    reject: false,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: 64 << 20,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    // An env given is the whole environment, as the reference commands get it.
    ...(opts.env !== undefined ? { env: opts.env, extendEnv: false } : {}),
  });
  const ms = performance.now() - start;
  const [kb, user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(timeFile, { force: true });
  const code = r.exitCode ?? null;
  const out: Measured = { ms, rssMb: kb / 1024, cpuMs: (user + sys) * 1000, code, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (code !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${code ?? r.signal}:\n${out.stderr.slice(-2000)}`);
  }
  return out;
}

/**
 * Node's bare start (`node -e ''`) as bin/slime starts Node: when NODE_EXTRA_CA_CERTS
 * names the file SSL_CERT_FILE names, without the variable and with `--use-openssl-ca`
 * (bin/slime says why). Left set, Node reads and parses the certificates before any
 * JavaScript runs: 62 against 25 ms here, which made the floor slower than the
 * commands measured against it.
 */
export function measureNodeStart(): Measured {
  const env = { ...process.env };
  const sameFile = env.NODE_EXTRA_CA_CERTS !== undefined && env.NODE_EXTRA_CA_CERTS === env.SSL_CERT_FILE;
  if (sameFile) delete env.NODE_EXTRA_CA_CERTS;
  return measure(process.execPath, [...(sameFile ? ['--use-openssl-ca'] : []), '-e', ''], { env });
}

/** The number after `--NAME` on the command line of a script run alone, else `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

export interface RatioInterval {
  low: number;
  high: number;
}

export interface SideBySide {
  /** The medians of time and CPU, and the peak RSS, of each. */
  a: Measured;
  b: Measured;
  /**
   * 95 % percentile-bootstrap interval of median(a) / median(b) in wall time, the
   * rounds resampled as pairs (src/bench/stats.ts); with MIN_ROUNDS_FOR_INTERVAL
   * rounds or more (fewer give an interval that says nothing).
   */
  ratioInterval?: RatioInterval;
}

export const MIN_ROUNDS_FOR_INTERVAL = 7;

/** Runs `a` and `b` `rounds` times each, alternating, the first of each round swapped every round. */
export function sideBySide(rounds: number, a: () => Measured, b: () => Measured): SideBySide {
  const [as, bs] = interleave(rounds, [a, b]) as [Measured[], Measured[]];
  return pairUp(as, bs);
}

/**
 * Runs each of `runs` once a round, `rounds` times, in an order rotated by one every
 * round (for two: swapped), so that none always runs right after the same other; gives
 * each one's measurements in round order. Figures that share a reference measure it
 * once a round for all of them, each paired with the same runs of it.
 */
export function interleave(rounds: number, runs: (() => Measured)[]): Measured[][] {
  const out = runs.map((): Measured[] => []);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < runs.length; k++) {
      const j = (i + k) % runs.length;
      out[j]!.push(runs[j]!());
    }
  }
  return out;
}

/** The side by side of `as` against `bs`, measured in the same rounds (paired by index). */
export function pairUp(as: Measured[], bs: Measured[]): SideBySide {
  const out: SideBySide = { a: summarize(as), b: summarize(bs) };
  if (as.length >= MIN_ROUNDS_FOR_INTERVAL) {
    const { low, high } = bootstrapMedianRatio(
      bs.map((m) => m.ms),
      as.map((m) => m.ms),
    );
    out.ratioInterval = { low, high };
  }
  return out;
}

export function summarize(ms: Measured[]): Measured {
  return { ...ms[ms.length - 1], ms: median(ms.map((m) => m.ms)), cpuMs: median(ms.map((m) => m.cpuMs)), rssMb: Math.max(...ms.map((m) => m.rssMb)) };
}

export function slimeArgs(...args: string[]): [string, string[]] {
  return [CLI, args];
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deletes a tree even when it holds read-only store paths. */
export function removeTree(p: string): void {
  spawnSync('chmod', ['-R', 'u+w', p], { stdio: 'ignore' });
  fs.rmSync(p, { recursive: true, force: true });
}

/** The figure of `a` (slime) against `b` (the reference), in ms. */
export function versus(name: string, a: Measured, label: string, b: Measured, extra: Partial<Figure> = {}): Figure {
  return {
    name,
    unit: 'ms',
    slime: a.ms,
    slimeRssMb: a.rssMb,
    slimeCpuMs: a.cpuMs,
    reference: { label, value: b.ms, rssMb: b.rssMb, cpuMs: b.cpuMs },
    ...extra,
  };
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
