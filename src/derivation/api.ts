/**
 * The typed API that modules under `derivations/` (or a `-f FILE`) use to declare
 * derivations and targets.
 *
 * A slime derivation IS a Nix derivation: `derivation()` builds the same ATerm that
 * Nix's `derivation { ... }` builtin would for the same attributes (every attribute
 * but `args` goes into the environment, plus `name`, `system` and `builder`), and
 * computes its `.drv` path and output paths exactly as Nix does. What Nix cannot see
 * (phase recognizer, timeout) rides beside the ATerm and never changes a hash.
 *
 * Paths are computed eagerly, so the store directory must be chosen before a module
 * is evaluated (`beginEvaluation`), as Nix fixes its store dir per process.
 */
import path from 'node:path';
import { SlimeError } from '../errors.js';
import { parseHash, type HashAlgo } from '../hash/digest.js';
import { makeFixedOutputPath, checkStoreName } from '../store/paths.js';
import { serializeDrv, type DrvData } from './aterm.js';
import { drvPathOf, fillOutputPaths, hashDerivationModulo } from './drv-hash.js';
import { describeHostTools, hostToolsPath, type HostToolResolver } from './host-tools.js';
import { sourceStorePath } from './sources.js';
import { checkMirror, type Mirror } from '../fetch/mirror.js';
import { checkDerivationSpec, checkFetchSpec } from './spec-check.js';

export type { Mirror };

/** A local file or directory that a derivation uses; it is added to the store as Nix adds `./path`. */
export interface Source {
  readonly kind: 'source';
  readonly localPath: string;
  readonly storePath: string;
  toString(): string;
}

export interface FixedOutputSpec {
  /** `flat`: the output is one file hashed as is; `recursive`: the NAR of the output tree. */
  mode: 'flat' | 'recursive';
  algo: HashAlgo;
  /** The expected digest. */
  digest: Buffer;
  /** Where a `builtin:fetch` derivation gets the file, tried in order. */
  mirrors?: Mirror[];
}

export interface Derivation {
  readonly kind: 'derivation';
  readonly name: string;
  readonly drvPath: string;
  readonly drv: DrvData;
  /** Output paths by output name. */
  readonly outputs: Record<string, string>;
  /** The `out` output's path; also what the derivation turns into inside a string. */
  readonly out: string;
  readonly inputDerivations: Derivation[];
  readonly sources: Source[];
  readonly fixedOutput?: FixedOutputSpec;
  /** Which phase recognizer reads this build's output (see src/builder/phases/). */
  readonly phases?: string;
  /** The builder compares the samples under python3.11 and the tier under test and writes `report.json` (derivations/compare-samples): slime reads that report when the build ends, failed or not (the `verified` event). Like `phases`, it rides beside the ATerm. */
  readonly comparesSamples?: boolean;
  /** Wall-clock limit of one build attempt, in ms. */
  readonly timeoutMs?: number;
  /** Why a rebuild is expected to give other bytes; `slime check` reports it and does not fail on it. */
  readonly nondeterministic?: string;
  /** Hash modulo fixed-output inputs, as Nix's hashDerivationModulo. */
  readonly moduloHash: Buffer;
  toString(): string;
}

export type Arg = string | number | boolean | Derivation | Source;

export interface DerivationSpec {
  name: string;
  /** An absolute path, or the name of a declared host tool. */
  builder: string;
  args?: Arg[];
  env?: Record<string, Arg | Arg[]>;
  /** Host tools by name (resolved in the system directories) or absolute path; they make up PATH. */
  tools?: string[];
  /** Output names; `out` unless said otherwise. */
  outputs?: string[];
  /** A fixed-output derivation: its output must have this hash, and it may use the network. */
  outputHash?: { hash: string; algo?: HashAlgo; mode?: 'flat' | 'recursive' };
  phases?: string;
  /** The builder compares the samples under python3.11 and the tier under test and writes `report.json` (derivations/compare-samples): slime reads that report when the build ends, failed or not (the `verified` event). Like `phases`, it rides beside the ATerm. */
  comparesSamples?: boolean;
  timeoutMs?: number;
  /**
   * The reason this derivation's output is not reproducible (e.g. a PGO profile). Like
   * `phases`, it rides beside the ATerm: it changes no `.drv` and no output path.
   */
  nondeterministic?: string;
}

export interface Target {
  name: string;
  description: string;
  derivations: Derivation[];
}

interface EvaluationContext {
  storeDir: string;
  platform: string;
  tools: HostToolResolver;
  /** Output path -> the derivation producing it, to find inputs mentioned inside strings. */
  producers: Map<string, Derivation>;
  sources: Map<string, Source>;
  /** Files and environment variables the module declared it reads (evaluationInput, evaluationEnv). */
  inputs: Set<string>;
  env: Map<string, string | undefined>;
}

/**
 * The context lives on globalThis: a derivation module has its own copy of this file
 * (bundled into it from the TypeScript source, module-bundle.ts, rather than slime's
 * compiled one), and both copies must see the store directory the CLI chose.
 */
const CONTEXT = Symbol.for('slime.evaluation-context');
type WithContext = { [CONTEXT]?: EvaluationContext };

export function beginEvaluation(storeDir: string, tools: HostToolResolver): void {
  (globalThis as WithContext)[CONTEXT] = {
    storeDir,
    platform: `${process.arch === 'x64' ? 'x86_64' : process.arch}-${process.platform}`,
    tools,
    producers: new Map(),
    sources: new Map(),
    inputs: new Set(),
    env: new Map(),
  };
}

/** What the evaluation begun last read besides the module's imports: for the evaluation cache. */
export function evaluationReads(): { sources: string[]; inputs: string[]; env: Record<string, string | undefined>; tools: string[] } {
  const c = ctx();
  return {
    sources: [...c.sources.keys()].sort(),
    inputs: [...c.inputs].sort(),
    env: Object.fromEntries(c.env),
    tools: c.tools.resolvedNames(),
  };
}

/**
 * Declares that the module's derivations depend on a file or directory it reads
 * itself (other than by import or source()): a change to it re-evaluates the module
 * instead of reusing the cached plan (src/derivation/eval-cache.ts).
 */
export function evaluationInput(file: string): void {
  ctx().inputs.add(path.resolve(file));
}

/** An environment variable the module reads, for the same purpose; returns its value. */
export function evaluationEnv(name: string): string | undefined {
  const value = process.env[name];
  ctx().env.set(name, value);
  return value;
}

function ctx(): EvaluationContext {
  const context = (globalThis as WithContext)[CONTEXT];
  if (!context) {
    throw new SlimeError('internal error: a derivation was declared before the store directory was chosen (beginEvaluation)');
  }
  return context;
}

/** A local file or directory, resolved against `base` (pass `import.meta.url` or a directory). */
export function source(base: string, relative = '.'): Source {
  const dir = base.startsWith('file:') ? path.dirname(new URL(base).pathname) : base;
  const localPath = path.resolve(dir, relative);
  const known = ctx().sources.get(localPath);
  if (known) return known;
  const storePath = sourceStorePath(ctx().storeDir, localPath);
  const src: Source = { kind: 'source', localPath, storePath, toString: () => storePath };
  ctx().sources.set(localPath, src);
  return src;
}

function isDerivation(a: unknown): a is Derivation {
  return typeof a === 'object' && a !== null && (a as Derivation).kind === 'derivation';
}

function isSource(a: unknown): a is Source {
  return typeof a === 'object' && a !== null && (a as Source).kind === 'source';
}

/**
 * Refuses what Nix would not coerce to a string (an attribute set, null), and what
 * JavaScript would silently turn into "[object Object]", "null" or "undefined".
 */
function checkArg(a: unknown, drvName: string, where: string): void {
  if (Array.isArray(a)) {
    a.forEach((x, i) => checkArg(x, drvName, `${where}[${i}]`));
    return;
  }
  if (typeof a === 'string' && a.includes('\0')) {
    throw new SlimeError(
      `derivation ${drvName}: ${where} contains a NUL byte at ${a.indexOf('\0')}, which no .drv file or process environment can carry; remove it`,
    );
  }
  if (typeof a === 'string' || typeof a === 'boolean' || isDerivation(a) || isSource(a)) return;
  if (typeof a === 'number' && Number.isFinite(a)) return;
  const what = a === null ? 'null' : a === undefined ? 'undefined' : typeof a === 'number' ? String(a) : typeof a === 'function' ? 'a function' : 'an object';
  throw new SlimeError(
    `derivation ${drvName}: ${where} is ${what}, which cannot be turned into a string (Nix refuses to coerce it too); ` +
      'pass a string, number, boolean, derivation, source() or a list of them, or leave the key out',
  );
}

/** Collects what strings refer to, as Nix's string context does. */
class References {
  readonly drvs = new Map<string, { drv: Derivation; outputs: Set<string> }>();
  readonly srcs = new Map<string, Source>();

  render(a: Arg | Arg[]): string {
    if (Array.isArray(a)) return a.map((x) => this.render(x)).join(' ');
    if (isDerivation(a)) return this.useOutput(a, 'out');
    if (isSource(a)) {
      this.srcs.set(a.storePath, a);
      return a.storePath;
    }
    // As Nix coerces attributes: true is "1", false is "".
    const s = typeof a === 'string' ? a : typeof a === 'boolean' ? (a ? '1' : '') : String(a);
    this.scan(s);
    return s;
  }

  private useOutput(d: Derivation, output: string): string {
    const entry = this.drvs.get(d.drvPath) ?? { drv: d, outputs: new Set<string>() };
    entry.outputs.add(output);
    this.drvs.set(d.drvPath, entry);
    return d.outputs[output];
  }

  /** Finds store paths of known derivations and sources written inside a plain string. */
  private scan(s: string): void {
    const { storeDir, producers, sources } = ctx();
    if (!s.includes(storeDir + '/')) return;
    const re = new RegExp(`${escapeRegExp(storeDir)}/[0-9a-z]{32}-[A-Za-z0-9+\\-._?=]+`, 'g');
    for (const m of s.matchAll(re)) {
      for (const candidate of prefixesOf(m[0], storeDir)) {
        const d = producers.get(candidate);
        if (d) {
          const output = Object.keys(d.outputs).find((o) => d.outputs[o] === candidate)!;
          this.useOutput(d, output);
          break;
        }
        const src = [...sources.values()].find((x) => x.storePath === candidate);
        if (src) {
          this.srcs.set(src.storePath, src);
          break;
        }
      }
    }
  }
}

/** A matched store path may run into a following path component: try each cut. */
function prefixesOf(match: string, storeDir: string): string[] {
  const base = storeDir.length + 1 + 33;
  const out: string[] = [match];
  for (let i = match.length - 1; i > base; i--) {
    if ('/'.includes(match[i])) out.push(match.slice(0, i));
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function derivation(spec: DerivationSpec): Derivation {
  const c = ctx();
  checkDerivationSpec(spec);
  checkStoreName(spec.name);
  const refs = new References();
  const outputNames = spec.outputs ?? ['out'];
  const builtin = spec.builder.startsWith('builtin:');
  const builder = spec.builder.startsWith('/') || builtin ? spec.builder : c.tools.resolve(spec.builder).path;
  // The builder is a host tool too: a different /bin/sh must change the hash.
  const toolNames = [...(spec.tools ?? []), ...(builtin ? [] : [spec.builder])];
  const toolLines = toolNames.length ? describeHostTools(c.tools, toolNames) : undefined;

  for (const [k, v] of Object.entries(spec.env ?? {})) checkArg(v, spec.name, `env.${k}`);
  (spec.args ?? []).forEach((a, i) => checkArg(a, spec.name, `args[${i}]`));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = refs.render(v);
  env.name = spec.name;
  env.system = builtin ? 'builtin' : c.platform;
  env.builder = builder;
  if (spec.outputs) env.outputs = outputNames.join(' ');
  if (toolLines) {
    env.slimeHostTools = toolLines;
    // What a Nix builder of this .drv runs the tools from (it sets PATH from the env alone).
    env.PATH ??= hostToolsPath(c.tools, toolNames);
  }
  const fixedOutput = spec.outputHash ? fixedOutputOf(spec.outputHash) : undefined;
  if (spec.outputHash && fixedOutput) {
    env.outputHash = spec.outputHash.hash;
    env.outputHashAlgo = fixedOutput.algo;
    env.outputHashMode = fixedOutput.mode;
  }
  const args = (spec.args ?? []).map((a) => refs.render(a));

  return finish(spec, {
    outputs: Object.fromEntries(outputNames.map((o) => [o, { path: '', hashAlgo: '', hash: '' }])),
    inputDrvs: Object.fromEntries(
      [...refs.drvs.values()].map(({ drv, outputs }) => [drv.drvPath, [...outputs].sort()]),
    ),
    inputSrcs: [...refs.srcs.keys()].sort(),
    platform: env.system,
    builder,
    args,
    env,
  }, refs, fixedOutput);
}

function fixedOutputOf(h: NonNullable<DerivationSpec['outputHash']>): FixedOutputSpec {
  const parsed = parseHash(h.hash, h.algo);
  return { mode: h.mode ?? 'flat', algo: parsed.algo, digest: parsed.digest };
}

function finish(spec: DerivationSpec, blank: DrvData, refs: References, fixedOutput?: FixedOutputSpec): Derivation {
  const c = ctx();
  const inputDerivations = [...refs.drvs.values()].map((e) => e.drv);
  const moduloOf = (p: string): Buffer => {
    const d = inputDerivations.find((x) => x.drvPath === p);
    if (!d) throw new SlimeError(`internal error: input derivation ${p} is not known`);
    return d.moduloHash;
  };
  let drv: DrvData;
  if (fixedOutput) {
    const outPath = makeFixedOutputPath(c.storeDir, spec.name, { method: fixedOutput.mode, algo: fixedOutput.algo, digest: fixedOutput.digest });
    const hashAlgo = (fixedOutput.mode === 'recursive' ? 'r:' : '') + fixedOutput.algo;
    drv = {
      ...blank,
      outputs: { out: { path: outPath, hashAlgo, hash: fixedOutput.digest.toString('hex') } },
      env: { ...blank.env, out: outPath },
    };
  } else {
    drv = fillOutputPaths(c.storeDir, spec.name, blank, moduloOf);
  }
  const drvPath = drvPathOf(c.storeDir, spec.name, drv);
  const outputs = Object.fromEntries(Object.entries(drv.outputs).map(([k, v]) => [k, v.path]));
  const d: Derivation = {
    kind: 'derivation',
    name: spec.name,
    drvPath,
    drv,
    outputs,
    out: outputs.out ?? Object.values(outputs)[0],
    inputDerivations,
    sources: [...refs.srcs.values()],
    fixedOutput: fixedOutput && {
      ...fixedOutput,
      mirrors: (spec as FetchSpec).mirrors,
    },
    phases: spec.phases,
    ...(spec.comparesSamples === true ? { comparesSamples: true } : {}),
    timeoutMs: spec.timeoutMs,
    nondeterministic: spec.nondeterministic,
    moduloHash: hashDerivationModulo(drv, moduloOf),
    toString: () => d.out,
  };
  for (const p of Object.values(outputs)) c.producers.set(p, d);
  return d;
}

interface FetchSpec extends DerivationSpec {
  mirrors?: Mirror[];
}

/**
 * A fixed-output file fetched from the first mirror that serves the right bytes.
 * Its output path depends only on the name and the hash, never on the mirrors.
 */
export function fetchFile(spec: { name: string; sha256: string; mirrors: Mirror[] }): Derivation {
  checkFetchSpec(spec);
  if (spec.mirrors.length === 0) {
    throw new SlimeError(`fetchFile ${spec.name}: no mirrors given; list at least one URL, apt-source or pip mirror`);
  }
  // A mirror that could never work is a mistake in the declaration, not a build failure.
  for (const m of spec.mirrors) checkMirror(m, spec.name);
  const fetchSpec: FetchSpec = {
    name: spec.name,
    builder: 'builtin:fetch',
    env: { urls: spec.mirrors.map(mirrorUri).join(' ') },
    outputHash: { hash: spec.sha256, algo: 'sha256', mode: 'flat' },
    mirrors: spec.mirrors,
  };
  return derivation(fetchSpec);
}

function mirrorUri(m: Mirror): string {
  if ('url' in m) return m.url;
  if ('pip' in m) return `pip:${m.pip.package}==${m.pip.version}/${m.pip.file}`;
  const { package: pkg, version, file } = m.aptSource;
  return `apt-source:${pkg}${version ? '=' + version : ''}/${file}`;
}

export function target(name: string, description: string, derivations: Derivation[]): Target {
  return { name, description, derivations };
}

/** The text of a derivation's `.drv` file. */
export function drvText(d: Derivation): string {
  return serializeDrv(d.drv);
}

/**
 * Derivations that refer to each other by name, declared in any order (like a Nix
 * `rec { }` set). Each entry gets `get`, which evaluates another entry on demand; a
 * dependency cycle is reported with the names along it.
 */
export function derivationSet<K extends string>(
  defs: Record<K, (get: (name: K) => Derivation) => Derivation>,
): Record<K, Derivation> {
  const done = new Map<K, Derivation>();
  const inProgress: K[] = [];
  const get = (name: K): Derivation => {
    const known = done.get(name);
    if (known) return known;
    if (!(name in defs)) throw new SlimeError(`derivation "${name}" is not declared in this set; declared: ${Object.keys(defs).join(', ')}`);
    if (inProgress.includes(name)) {
      const cycle = [...inProgress.slice(inProgress.indexOf(name)), name];
      throw new SlimeError(`dependency cycle: ${cycle.join(' -> ')}; break it by removing one of these inputs`);
    }
    inProgress.push(name);
    const d = defs[name](get);
    inProgress.pop();
    done.set(name, d);
    return d;
  };
  for (const k of Object.keys(defs) as K[]) get(k);
  return Object.fromEntries(done) as Record<K, Derivation>;
}
