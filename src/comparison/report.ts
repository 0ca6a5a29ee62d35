/**
 * The report the verify derivation writes (derivations/compare-samples/compare.py), as types,
 * and a reader that checks a file really is one before the CLI or the TUI trusts it.
 *
 *   report.json = {
 *     "tier"?: "light", "runner"?: label,        the Light tier: "isolate" is then the runner's launcher
 *     "python": store path, "isolate": store path, "timeoutSeconds": s,
 *     "total": N, "passed": P,
 *     "outcomes"?: {"bit-exact": n, "message": n, "unsupported": n, "wrong": n},
 *     "native"?: {"runner": label, "report": launcher store path, "same": n, "differs": [names]},
 *                                                   a wasm runner against its native twin
 *     "samples": [ {
 *       "name", "category", "file", "args": [..], "expectedExitCode": n,
 *       "exitCode": {"python": n|null, "isolate": n|null},   null: killed by the runner
 *       "signal":   {"python": "SIGINT"|null, "isolate": ...}, exit code is then 128+N
 *       "stdout":   {"python": {"sha256", "bytes"}, "isolate": {...}},
 *       "stderr":   {...},
 *       "pass": bool,                                           outcome == "bit-exact"
 *       "outcome"?: "bit-exact" | "message" | "unsupported" | "wrong",
 *       "note"?: what differs (message: which lines) or what is missing (unsupported),
 *       "native"?: "same" | "differs",                    with the report's "native"
 *       "firstDifference"?: {"stream": "stdout"|"stderr"|"exit", "line"?: n, "python", "isolate"},
 *       "problem"?: why the reference run itself is wrong (timeout, unexpected exit)
 *     } ]
 *   }
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

/** How a sample fared (compare.py's header defines them); the Full tier knows only the first and the last. */
export const OUTCOMES = ['bit-exact', 'message', 'unsupported', 'wrong'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The same thing measured for the reference CPython and for the isolate. */
export interface PerInterpreter<T> {
  python: T;
  isolate: T;
}

export interface StreamDigest {
  /** Hex SHA-256 of the stream's bytes. */
  sha256: string;
  bytes: number;
}

export interface FirstDifference {
  stream: 'stdout' | 'stderr' | 'exit';
  /** 1-based line of the first differing line; absent for `exit`. */
  line?: number;
  /** That line as each interpreter wrote it (escaped, possibly cut), or how each one exited. */
  python: string;
  isolate: string;
}

export interface SampleResult {
  name: string;
  category: string;
  /** Path of the program relative to the samples directory. */
  file: string;
  args: string[];
  /** What the manifest says the reference python exits with. */
  expectedExitCode: number;
  /** null: the runner killed the run (past the timeout, or too much output); firstDifference or problem says which. */
  exitCode: PerInterpreter<number | null>;
  /** Name of the signal that ended the run (its exit code is then 128+N), or null. */
  signal: PerInterpreter<string | null>;
  stdout: PerInterpreter<StreamDigest>;
  stderr: PerInterpreter<StreamDigest>;
  pass: boolean;
  /** Absent in reports written before outcomes existed; then it is bit-exact or wrong by `pass`. */
  outcome?: Outcome;
  /** For a message difference, the lines; for an unsupported sample, the missing piece; for wrong, why. */
  note?: string;
  /** Present when the two runs differ: the first difference, stdout before stderr before exit. */
  firstDifference?: FirstDifference;
  /** Present when the reference run itself is wrong: it timed out or exited unlike the manifest says. */
  problem?: string;
  /** A wasm runner with a native twin: whether this sample ran the same (stdout, stderr, exit) on both. */
  native?: 'same' | 'differs';
}

/** A wasm runner's agreement with the same interpreter built natively. */
export interface NativeAgreement {
  /** The native runner's label. */
  runner: string;
  /** Store path of the native launcher (run beside the runner on every sample). */
  report: string;
  same: number;
  /** Names of the samples that ran differently. */
  differs: string[];
}

export interface ComparisonReport {
  /** `light` for a Light tier runner's report; absent for the Full tier. */
  tier?: 'light';
  /** The Light tier runner's name ("CPython-wasi, wasmtime (AOT)"). */
  runner?: string;
  /** Samples per outcome. */
  outcomes?: Record<Outcome, number>;
  /** A wasm runner against its native twin. */
  native?: NativeAgreement;
  /** Store path of the CPython the isolate is compared with. */
  python: string;
  /** Store path of the isolate. */
  isolate: string;
  timeoutSeconds: number;
  total: number;
  passed: number;
  samples: SampleResult[];
}

/** A file that is not a sample comparison report, or one that contradicts itself. */
export class ReportError extends SlimeError {
  constructor(source: string, cause: string) {
    super(`sample comparison report ${source}: ${cause}; it was not written by derivations/compare-samples/compare.py or is damaged: realize the comparison (verify-isolate-*, verify-light-*) again`);
    this.name = 'ReportError';
  }
}

/**
 * Reads and checks a report. `file` is report.json itself or the comparison
 * derivation's output directory that holds it.
 */
export async function readReport(file: string): Promise<ComparisonReport> {
  let target = file;
  let text: string;
  try {
    // Read synchronously (it is small): node:fs/promises loads Node's readline and file
    // watchers with it, ~3 ms of the no-op of full-x86_64, which reads this report.
    if (fs.statSync(file).isDirectory()) target = path.join(file, 'report.json');
    text = fs.readFileSync(target, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'does not exist' : `cannot be read (${err.code ?? err.message})`;
    throw new SlimeError(`sample comparison report ${target} ${why}; realize the comparison (verify-isolate-*, verify-light-*) to produce it, and pass its output path or its report.json`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReportError(target, `is not JSON (${(e as Error).message})`);
  }
  return parseReport(json, target);
}

/** Checks that `json` is a sample comparison report; `source` names it in errors. */
export function parseReport(json: unknown, source: string): ComparisonReport {
  const c = new Checker(source);
  const top = c.object(json, 'the report');
  const samples = c.array(top.samples, 'samples').map((s, i) => parseSample(c, s, `samples[${i}]`));
  const report: ComparisonReport = {
    ...(top.tier !== undefined ? { tier: c.oneOf(top.tier, 'tier', ['light'] as const) } : {}),
    ...(top.runner !== undefined ? { runner: c.string(top.runner, 'runner') } : {}),
    python: c.string(top.python, 'python'),
    isolate: c.string(top.isolate, 'isolate'),
    timeoutSeconds: c.number(top.timeoutSeconds, 'timeoutSeconds'),
    total: c.count(top.total, 'total'),
    passed: c.count(top.passed, 'passed'),
    samples,
  };
  if (report.total !== samples.length) {
    throw new ReportError(source, `total is ${report.total} but samples lists ${samples.length}`);
  }
  const passing = samples.filter((s) => s.pass).length;
  if (report.passed !== passing) {
    throw new ReportError(source, `passed is ${report.passed} but ${passing} samples have pass: true`);
  }
  if (top.outcomes !== undefined) {
    const o = c.object(top.outcomes, 'outcomes');
    report.outcomes = Object.fromEntries(OUTCOMES.map((k) => [k, c.count(o[k], `outcomes.${k}`)])) as Record<Outcome, number>;
    for (const k of OUTCOMES) {
      const n = samples.filter((s) => outcomeOf(s) === k).length;
      if (report.outcomes[k] !== n) throw new ReportError(source, `outcomes.${k} is ${report.outcomes[k]} but ${n} samples have that outcome`);
    }
  }
  if (top.native !== undefined) {
    const n = c.object(top.native, 'native');
    report.native = {
      runner: c.string(n.runner, 'native.runner'),
      report: c.string(n.report, 'native.report'),
      same: c.count(n.same, 'native.same'),
      differs: c.array(n.differs, 'native.differs').map((d, i) => c.string(d, `native.differs[${i}]`)),
    };
    const same = samples.filter((s) => s.native === 'same').length;
    if (report.native.same !== same) throw new ReportError(source, `native.same is ${report.native.same} but ${same} samples have native: same`);
  }
  const names = new Set<string>();
  for (const s of samples) {
    if (names.has(s.name)) throw new ReportError(source, `sample ${s.name} appears twice`);
    names.add(s.name);
  }
  return report;
}

/** A sample's outcome, also for reports written before outcomes existed. */
export function outcomeOf(s: SampleResult): Outcome {
  return s.outcome ?? (s.pass ? 'bit-exact' : 'wrong');
}

/** Samples per outcome, counted from the samples. */
export function countOutcomes(report: ComparisonReport): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((k) => [k, report.samples.filter((s) => outcomeOf(s) === k).length])) as Record<Outcome, number>;
}

function parseSample(c: Checker, json: unknown, at: string): SampleResult {
  const o = c.object(json, at);
  const sample: SampleResult = {
    name: c.string(o.name, `${at}.name`),
    category: c.string(o.category, `${at}.category`),
    file: c.string(o.file, `${at}.file`),
    args: c.array(o.args, `${at}.args`).map((a, i) => c.string(a, `${at}.args[${i}]`)),
    expectedExitCode: c.count(o.expectedExitCode, `${at}.expectedExitCode`),
    exitCode: c.pair(o.exitCode, `${at}.exitCode`, (v, w) => (v === null ? null : c.count(v, w))),
    signal: c.pair(o.signal, `${at}.signal`, (v, w) => (v === null ? null : c.string(v, w))),
    stdout: c.pair(o.stdout, `${at}.stdout`, (v, w) => parseDigest(c, v, w)),
    stderr: c.pair(o.stderr, `${at}.stderr`, (v, w) => parseDigest(c, v, w)),
    pass: c.boolean(o.pass, `${at}.pass`),
  };
  if (o.firstDifference !== undefined) sample.firstDifference = parseDifference(c, o.firstDifference, `${at}.firstDifference`);
  if (o.problem !== undefined) sample.problem = c.string(o.problem, `${at}.problem`);
  if (o.outcome !== undefined) {
    sample.outcome = c.oneOf(o.outcome, `${at}.outcome`, OUTCOMES);
    if ((sample.outcome === 'bit-exact') !== sample.pass) {
      throw new ReportError(c.source, `${at} (${sample.name}) has outcome ${sample.outcome} but pass: ${sample.pass}`);
    }
  }
  if (o.note !== undefined) sample.note = c.string(o.note, `${at}.note`);
  if (o.native !== undefined) sample.native = c.oneOf(o.native, `${at}.native`, ['same', 'differs'] as const);
  if (sample.pass && (sample.firstDifference || sample.problem)) {
    throw new ReportError(c.source, `${at} (${sample.name}) passes yet records a difference or a problem`);
  }
  if (!sample.pass && !sample.firstDifference && !sample.problem) {
    throw new ReportError(c.source, `${at} (${sample.name}) fails without a recorded difference or problem`);
  }
  return sample;
}

function parseDigest(c: Checker, json: unknown, at: string): StreamDigest {
  const o = c.object(json, at);
  const sha256 = c.string(o.sha256, `${at}.sha256`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ReportError(c.source, `${at}.sha256 is not a hex SHA-256: ${JSON.stringify(sha256)}`);
  return { sha256, bytes: c.count(o.bytes, `${at}.bytes`) };
}

function parseDifference(c: Checker, json: unknown, at: string): FirstDifference {
  const o = c.object(json, at);
  const stream = o.stream;
  if (stream !== 'stdout' && stream !== 'stderr' && stream !== 'exit') {
    throw new ReportError(c.source, `${at}.stream must be "stdout", "stderr" or "exit", got ${JSON.stringify(stream)}`);
  }
  const difference: FirstDifference = {
    stream,
    python: c.string(o.python, `${at}.python`),
    isolate: c.string(o.isolate, `${at}.isolate`),
  };
  if (stream !== 'exit') {
    difference.line = c.count(o.line, `${at}.line`);
    if (difference.line < 1) throw new ReportError(c.source, `${at}.line must be 1 or more, got ${difference.line}`);
  }
  return difference;
}

/** Type checks that name the offending field and what it held. */
class Checker {
  constructor(readonly source: string) {}

  private fail(at: string, expected: string, got: unknown): never {
    const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 80);
    throw new ReportError(this.source, `${at} must be ${expected}, got ${shown}`);
  }

  object(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, 'an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, 'an array', v);
    return v as unknown[];
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, 'a string', v);
    return v as string;
  }

  boolean(v: unknown, at: string): boolean {
    if (typeof v !== 'boolean') this.fail(at, 'true or false', v);
    return v as boolean;
  }

  number(v: unknown, at: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(at, 'a number', v);
    return v as number;
  }

  oneOf<T extends string>(v: unknown, at: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(at, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
    return v as T;
  }

  count(v: unknown, at: string): number {
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(at, 'a whole number 0 or more', v);
    return v as number;
  }

  pair<T>(v: unknown, at: string, each: (value: unknown, at: string) => T): PerInterpreter<T> {
    const o = this.object(v, at);
    return { python: each(o.python, `${at}.python`), isolate: each(o.isolate, `${at}.isolate`) };
  }
}
