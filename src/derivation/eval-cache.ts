/**
 * The evaluation cache: the plan of a derivation module (its derivations with their
 * `.drv` and output paths, its targets and exports), kept after an evaluation and
 * reused while nothing the evaluation read has changed, so that an unchanged module
 * is not even loaded.
 *
 * What an evaluation reads, and how each is checked (cheap stamp first, content when
 * the stamp differs, so touching a file costs a rehash, never a stale plan):
 *   - the module and every file it imports, transitively, as esbuild resolved them to
 *     bundle it (module-bundle.ts), slime's own sources among them when the module
 *     imports them:
 *       stat stamp (inode, size, mtime, ctime), else the file's SHA-256;
 *   - each `source()` file or directory: a stamp of every entry of the tree, else its
 *     NAR hash, i.e. its store path;
 *   - each host tool: the path its name resolves to in the system directories, the
 *     file it leads to and that file's stamp (host-tools.ts);
 *   - files and environment variables the module declared with `evaluationInput` /
 *     `evaluationEnv`;
 *   - the store directory, and slime itself: its version, a stamp of its code and of
 *     its package-lock.json (the dependencies, esbuild among them), and Node's version.
 * A module that reads anything else (an undeclared file, the clock, the network)
 * must declare it, or run with SLIME_EVAL_CACHE=0.
 *
 * Races: an input changed while the module was being evaluated could be stamped
 * after the change yet evaluated before it, so a plan is only kept when no input
 * changed (ctime) since just before its evaluation began.
 *
 * Where: the store's own copy (`<store>/.slime/eval-cache/<fileNameHash(module path)>.json`),
 * and the user's (`$SLIME_EVAL_CACHE_DIR`, else `$XDG_CACHE_HOME/slime/eval-cache`, default
 * `~/.cache/slime/eval-cache`, named `<fileNameHash(store dir NUL module path)>.json`), as
 * Nix keeps its evaluation cache under ~/.cache/nix. A plan depends on the store directory,
 * never on what the store holds (a `source()` missing from the store is added when the
 * plan is realized), so an empty or new store of the same directory takes the user's copy
 * (and keeps it as its own) instead of evaluating again: a substitution into an empty
 * store starts at once. The user's directory keeps the USER_PLANS most recently used.
 *
 * File format: two JSON
 * texts, one line each, in one file (written and renamed into place at once, so the two
 * always belong together):
 *   line 1  { format: 3, module, storeDir, self, files: [Stamped], sources: [Stamped],
 *             tools: [[name, stamp]], env: {NAME: value|null}, derivations: [SavedDerivation]
 *             (dependencies first), targets: [{name, description, drvs: [drvPath]}],
 *             exports: [[name, drvPath]] }
 *   line 2  [DrvData]: the derivations' full `.drv` contents, in the order of line 1
 *   Stamped = { path, stamp, digest }  digest: sha256 hex of a file, store path of a source
 *   SavedDerivation = { name, drvPath, outputs, inputs: [index into derivations], sources,
 *                       fixedOutput?, phases?, comparesSamples?, timeoutMs?, nondeterministic?,
 *                       moduloHash: hex }
 * Why two lines: a no-op realize needs every derivation's name, paths and inputs, and
 * none of its builder, arguments and environment, which are two thirds of the bytes
 * (the 1000-derivation graph's plan: 1.0 MB, 0.38 MB without them; JSON.parse took
 * 4.0-7.4 ms for the whole, 1.1-2.2 ms without them). Line 2 is decoded and parsed the first time any
 * derivation's `drv` is read (to write a `.drv` or to build), for all of them at once.
 * Format 3 names a derivation's inputs by their index on line 1 rather than by `.drv`
 * path (a third of line 1's bytes, and a map lookup each) and decodes `moduloHash` only
 * when it is read: a no-op reads it never.
 */
import { createHash } from 'node:crypto';
import { fileNameHash } from '../hash/name-hash.js';
import fs from 'node:fs';
import path from 'node:path';
import type { DrvData } from './aterm.js';
import type { Derivation, FixedOutputSpec, Source, Target } from './api.js';
import { HostToolResolver, userCacheDir } from './host-tools.js';
import { SOURCE_EXCLUDES, sourceStorePath } from './sources.js';
import type { HashAlgo } from '../hash/digest.js';
import type { Mirror } from '../fetch/mirror.js';
import { SlimeError } from '../errors.js';

const FORMAT = 3;
/** How many plans the user's directory keeps (least recently used go first); each is one module in one store directory. */
const USER_PLANS = 64;
/** Inputs whose ctime is this close to the evaluation's start are taken as changed during it (coarse kernel clock). */
const RACE_MARGIN_MS = 20;

interface Stamped {
  path: string;
  stamp: string;
  digest: string;
}

interface SavedDerivation {
  name: string;
  drvPath: string;
  /** Output name -> store path; the rest of its DrvData is on line 2. */
  outputs: Record<string, string>;
  /** Indexes of the input derivations in `derivations`, each before this one. */
  inputs: number[];
  sources: [string, string][];
  fixedOutput?: { mode: FixedOutputSpec['mode']; algo: HashAlgo; digest: string; mirrors?: Mirror[] };
  phases?: string;
  comparesSamples?: boolean;
  timeoutMs?: number;
  /** Why the derivation is declared not to rebuild bit for bit (slime check). */
  nondeterministic?: string;
  moduloHash: string;
}

interface CacheFile {
  format: number;
  module: string;
  storeDir: string;
  self: string;
  files: Stamped[];
  sources: Stamped[];
  tools: [string, string][];
  env: Record<string, string | null>;
  derivations: SavedDerivation[];
  targets: { name: string; description: string; drvs: string[] }[];
  exports: [string, string][];
}

export interface Plan {
  targets: Target[];
  derivations: Map<string, Derivation>;
}

export interface EvaluationReads {
  /** The module and the files it imports. */
  files: string[];
  sources: string[];
  inputs: string[];
  env: Record<string, string | undefined>;
  tools: string[];
}

/** Why a cached plan was not used, or 'hit'; shown with SLIME_TRACE_EVAL_CACHE=1. */
export type Lookup = { plan: Plan; why: 'hit' } | { plan?: undefined; why: string };

/**
 * The user's evaluation cache directory: $SLIME_EVAL_CACHE_DIR, else eval-cache in
 * userCacheDir(); none when SLIME_EVAL_CACHE_DIR is empty or no home is known.
 */
export function userEvalCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SLIME_EVAL_CACHE_DIR !== undefined) return env.SLIME_EVAL_CACHE_DIR === '' ? undefined : path.resolve(env.SLIME_EVAL_CACHE_DIR);
  const dir = userCacheDir(env);
  return dir && path.join(dir, 'eval-cache');
}

export class EvalCache {
  /** The store's copy; none when the store does not exist (reading a module creates no store). */
  private readonly file: string | undefined;
  /** The user's copy, shared by every store of this store directory. */
  private readonly userFile: string | undefined;

  constructor(
    storeCacheDir: string | undefined,
    private readonly userDir: string | undefined,
    private readonly module: string,
    private readonly storeDir: string,
  ) {
    this.file = storeCacheDir && path.join(storeCacheDir, `${fileNameHash(module)}.json`);
    this.userFile = userDir && path.join(userDir, `${fileNameHash(`${storeDir}\0${module}`)}.json`);
  }

  static enabled(env: NodeJS.ProcessEnv = process.env): boolean {
    return env.SLIME_EVAL_CACHE !== '0';
  }

  /** The store's copy, else the user's (then kept as the store's, so the next lookup reads one file). */
  lookup(tools: HostToolResolver): Lookup & { from?: 'store' | 'user' } {
    const own = this.file ? readBytes(this.file) : undefined;
    if (own) return { ...this.check(own, tools), from: 'store' };
    const shared = this.userFile ? readBytes(this.userFile) : undefined;
    if (!shared) return { why: 'no cached plan' };
    const found = this.check(shared, tools);
    if (found.plan) {
      try {
        if (this.file) writeAtomically(this.file, shared);
      } catch {
        // A store that cannot be written keeps reading the user's copy: the plan is as good.
      }
      touch(this.userFile!);
    }
    return { ...found, from: 'user' };
  }

  private check(bytes: Buffer, tools: HostToolResolver): Lookup {
    let saved: CacheFile;
    let drvs: () => DrvData[];
    try {
      const newline = bytes.indexOf(0x0a);
      if (newline < 0) return { why: 'cache format' };
      saved = JSON.parse(bytes.toString('utf8', 0, newline)) as CacheFile;
      drvs = () => JSON.parse(bytes.toString('utf8', newline + 1)) as DrvData[];
    } catch {
      return { why: 'cache format' };
    }
    if (saved.format !== FORMAT || saved.module !== this.module) return { why: 'cache format' };
    if (saved.storeDir !== this.storeDir) return { why: `store directory changed (${saved.storeDir})` };
    if (saved.self !== selfStamp()) return { why: "slime's version or code changed" };
    for (const f of saved.files) if (!fileUnchanged(f)) return { why: `${f.path} changed` };
    for (const s of saved.sources) if (!sourceUnchanged(s, this.storeDir)) return { why: `source ${s.path} changed` };
    for (const [name, stamp] of saved.tools) if (tools.stamp(name) !== stamp) return { why: `host tool ${name} changed` };
    for (const [name, value] of Object.entries(saved.env)) if ((process.env[name] ?? null) !== value) return { why: `$${name} changed` };
    let plan: Plan;
    try {
      plan = revive(saved, drvs);
    } catch {
      // Written by this format's serialize, never so: a damaged file, evaluated afresh.
      return { why: 'cache format' };
    }
    return { plan, why: 'hit' };
  }

  /** Keeps the plan unless an input changed since `evaluationStart` (ms since the epoch). */
  save(plan: Plan, reads: EvaluationReads, tools: HostToolResolver, evaluationStart: number): boolean {
    const since = evaluationStart - RACE_MARGIN_MS;
    const files: Stamped[] = [];
    for (const p of [...reads.files, ...reads.inputs]) {
      const s = stampOf(p);
      if (s.ctimeMs >= since) return false;
      files.push({ path: p, stamp: s.stamp, digest: s.isFile ? sha256Of(p) : '' });
    }
    const sourceStamps: Stamped[] = [];
    for (const p of reads.sources) {
      const s = stampOf(p);
      if (s.ctimeMs >= since) return false;
      const known = findSource(plan, p);
      if (!known) return false;
      sourceStamps.push({ path: p, stamp: s.stamp, digest: known.storePath });
    }
    const { derivations, drvs } = serialize(plan);
    const saved: CacheFile = {
      format: FORMAT,
      module: this.module,
      storeDir: this.storeDir,
      self: selfStamp(),
      files,
      sources: sourceStamps,
      tools: reads.tools.map((t) => [t, tools.stamp(t)]),
      env: Object.fromEntries(Object.entries(reads.env).map(([k, v]) => [k, v ?? null])),
      derivations,
      targets: plan.targets.map((t) => ({ name: t.name, description: t.description, drvs: t.derivations.map((d) => d.drvPath) })),
      exports: [...plan.derivations].map(([k, d]) => [k, d.drvPath]),
    };
    const bytes = Buffer.from(`${JSON.stringify(saved)}\n${JSON.stringify(drvs)}\n`);
    if (this.file) writeAtomically(this.file, bytes);
    if (this.userFile) {
      // The user's copy is a convenience: a home that cannot be written costs only the next evaluation.
      try {
        writeAtomically(this.userFile, bytes);
        evictLeastRecentlyUsed(this.userDir!, USER_PLANS);
      } catch {
        // Left unsaved.
      }
    }
    return true;
  }
}

function readBytes(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written beside and renamed into place: a reader sees the old file or the new one, never half of one. */
function writeAtomically(file: string, bytes: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

/** Marks a plan used (its mtime is the eviction order). */
function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Another process evicted it meanwhile: nothing lost but the order.
  }
}

function evictLeastRecentlyUsed(dir: string, keep: number): void {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  if (names.length <= keep) return;
  const aged = names
    .map((n) => {
      try {
        return { file: path.join(dir, n), mtimeMs: fs.statSync(path.join(dir, n)).mtimeMs };
      } catch {
        return undefined;
      }
    })
    .filter((x) => x !== undefined)
    .sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const { file } of aged.slice(0, aged.length - keep)) fs.rmSync(file, { force: true });
}

function findSource(plan: Plan, localPath: string): Source | undefined {
  const seen = new Set<string>();
  const stack: Derivation[] = [...plan.derivations.values(), ...plan.targets.flatMap((t) => t.derivations)];
  while (stack.length) {
    const d = stack.pop()!;
    if (seen.has(d.drvPath)) continue;
    seen.add(d.drvPath);
    const s = d.sources.find((x) => x.localPath === localPath);
    if (s) return s;
    stack.push(...d.inputDerivations);
  }
  return undefined;
}

/** Every derivation reachable from the plan, dependencies first, and their DrvData in the same order. */
function serialize(plan: Plan): { derivations: SavedDerivation[]; drvs: DrvData[] } {
  const out: SavedDerivation[] = [];
  const drvs: DrvData[] = [];
  const indexOf = new Map<string, number>();
  const visit = (d: Derivation) => {
    if (indexOf.has(d.drvPath)) return;
    // Marked before its inputs are visited, as before: a cycle cannot be planned anyway.
    indexOf.set(d.drvPath, -1);
    d.inputDerivations.forEach(visit);
    indexOf.set(d.drvPath, out.length);
    drvs.push(d.drv);
    out.push({
      name: d.name,
      drvPath: d.drvPath,
      outputs: d.outputs,
      inputs: d.inputDerivations.map((i) => indexOf.get(i.drvPath)!),
      sources: d.sources.map((s) => [s.localPath, s.storePath]),
      fixedOutput: d.fixedOutput && {
        mode: d.fixedOutput.mode,
        algo: d.fixedOutput.algo,
        digest: d.fixedOutput.digest.toString('hex'),
        mirrors: d.fixedOutput.mirrors,
      },
      phases: d.phases,
      ...(d.comparesSamples === true ? { comparesSamples: true } : {}),
      timeoutMs: d.timeoutMs,
      nondeterministic: d.nondeterministic,
      moduloHash: d.moduloHash.toString('hex'),
    });
  };
  plan.targets.forEach((t) => t.derivations.forEach(visit));
  plan.derivations.forEach(visit);
  return { derivations: out, drvs };
}

/** Line 2 of the cache file, decoded and parsed when a derivation's `drv` is first read. */
class CachedDrvs {
  private drvs: DrvData[] | undefined;

  constructor(
    private readonly module: string,
    private readonly read: () => DrvData[],
  ) {}

  at(i: number): DrvData {
    if (this.drvs === undefined) {
      try {
        this.drvs = this.read();
      } catch (e) {
        throw damaged(this.module, (e as Error).message);
      }
    }
    const drv = this.drvs[i];
    if (drv === undefined) throw damaged(this.module, `no derivation at entry ${i}`);
    return drv;
  }
}

/**
 * A derivation of a cached plan. A class, so that `drv` is a getter on the prototype:
 * objects made from literals with a getter each are slower to make and to read (V8
 * gives every one a map of its own), which cost a no-op realize what the lazy line saved.
 */
class CachedDerivation implements Derivation {
  readonly kind = 'derivation';
  readonly out: string;

  constructor(
    readonly name: string,
    readonly drvPath: string,
    readonly outputs: Record<string, string>,
    readonly inputDerivations: Derivation[],
    readonly sources: Source[],
    readonly fixedOutput: FixedOutputSpec | undefined,
    readonly phases: string | undefined,
    readonly comparesSamples: boolean | undefined,
    readonly timeoutMs: number | undefined,
    readonly nondeterministic: string | undefined,
    private readonly moduloHex: string,
    private readonly drvs: CachedDrvs,
    private readonly index: number,
  ) {
    this.out = outputs.out ?? Object.values(outputs)[0]!;
  }

  get drv(): DrvData {
    return this.drvs.at(this.index);
  }

  private moduloBytes: Buffer | undefined = undefined;

  get moduloHash(): Buffer {
    return (this.moduloBytes ??= Buffer.from(this.moduloHex, 'hex'));
  }

  toString(): string {
    return this.out;
  }
}

function revive(saved: CacheFile, readDrvs: () => DrvData[]): Plan {
  const drvs = new CachedDrvs(saved.module, readDrvs);
  const byIndex: Derivation[] = [];
  const byPath = new Map<string, Derivation>();
  const sources = new Map<string, Source>();
  const sourceOf = (localPath: string, storePath: string): Source => {
    let s = sources.get(localPath);
    if (!s) {
      s = { kind: 'source', localPath, storePath, toString: () => storePath };
      sources.set(localPath, s);
    }
    return s;
  };
  saved.derivations.forEach((x, i) => {
    const d = new CachedDerivation(
      x.name,
      x.drvPath,
      x.outputs,
      x.inputs.map((j) => {
        const input = byIndex[j];
        if (input === undefined) throw new Error(`${x.drvPath}: input ${j} is not an earlier entry`);
        return input;
      }),
      x.sources.map(([l, s]) => sourceOf(l, s)),
      x.fixedOutput && { ...x.fixedOutput, digest: Buffer.from(x.fixedOutput.digest, 'hex') },
      x.phases,
      x.comparesSamples === true ? true : undefined,
      x.timeoutMs,
      x.nondeterministic,
      x.moduloHash,
      drvs,
      i,
    );
    byIndex.push(d);
    byPath.set(x.drvPath, d);
  });
  return {
    targets: saved.targets.map((t) => ({ name: t.name, description: t.description, derivations: t.drvs.map((p) => byPath.get(p)!) })),
    derivations: new Map(saved.exports.map(([k, p]) => [k, byPath.get(p)!])),
  };
}

function damaged(module: string, why: string): SlimeError {
  return new SlimeError(`the evaluation cache of ${module} is damaged (${why}); run again with SLIME_EVAL_CACHE=0 to evaluate the module afresh and rewrite it`);
}

function fileUnchanged(f: Stamped): boolean {
  const now = stampOf(f.path);
  if (now.stamp === f.stamp) return true;
  // Same bytes under a new stamp (touched, copied back, checked out again): still valid.
  return f.digest !== '' && now.isFile && sha256Of(f.path) === f.digest;
}

function sourceUnchanged(s: Stamped, storeDir: string): boolean {
  if (stampOf(s.path).stamp === s.stamp) return true;
  try {
    return sourceStorePath(storeDir, s.path) === s.digest;
  } catch {
    return false;
  }
}

interface Stamp {
  stamp: string;
  isFile: boolean;
  /** The newest ctime in it: a file's own, or that of any entry of a tree. */
  ctimeMs: number;
}

/**
 * A file's inode, size, mtime, ctime and mode; for a directory, those of every entry (as
 * source() sees the tree: SOURCE_EXCLUDES left out), so an added, removed, renamed or
 * rewritten entry changes it: the listing itself up to LISTING_STAMP_MAX characters, a
 * digest of a longer one.
 */
export function stampOf(p: string): Stamp {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return { stamp: 'missing', isFile: false, ctimeMs: 0 };
  }
  if (!st.isDirectory()) return { stamp: statLine(st), isFile: st.isFile(), ctimeMs: st.ctimeMs };
  const { text, newest } = treeListing(p, st);
  const stamp = text.length <= LISTING_STAMP_MAX ? `listing:${text}` : `tree:${createHash('sha256').update(text).digest('hex')}`;
  return { stamp, isFile: false, ctimeMs: newest };
}

/**
 * A listing this long or shorter is its directory's stamp as it is: comparing it needs
 * no digest, so a no-op does not load node:crypto for it (4-5 ms of the start of a no-op
 * `slime realize full-x86_64`, whose module reads source directories: samples, patches).
 * Some 70 characters an entry: a tree of up to ~900 entries, each in the cache file once.
 */
const LISTING_STAMP_MAX = 64 * 1024;

/** The stat line of a directory and of every entry under it (SOURCE_EXCLUDES left out), and the newest ctime among them. */
function treeListing(p: string, st: fs.Stats): { text: string; newest: number } {
  let newest = st.ctimeMs;
  // One string hashed at the end (the same bytes as an update per entry); names only
  // from readdir, as lstat follows: every run of every command stamps these trees.
  let text = `${statLine(st)}\n`;
  const walk = (dir: string, rel: string) => {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const name of fs.readdirSync(dir)) {
      if (SOURCE_EXCLUDES.has(name)) continue;
      const full = prefix + name;
      const est = fs.lstatSync(full);
      if (est.ctimeMs > newest) newest = est.ctimeMs;
      text += `${rel}${name}\0${statLine(est)}\n`;
      if (est.isDirectory()) walk(full, `${rel}${name}/`);
    }
  };
  walk(p, '');
  return { text, newest };
}

function statLine(st: fs.Stats): string {
  return `${st.mode.toString(8)}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function sha256Of(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

let self: string | undefined;

/** Defined as "1" in the bundle (src/setup/bundle.ts), whose chunks sit in one directory. */
declare const SLIME_BUNDLE: string | undefined;

/**
 * slime's version and a stamp of its own code: a new slime may compute hashes differently.
 * The code is `dist/src/` (or `src/` under vitest), every file of it; in the bundle, the
 * bundle's own directory (`dist/bin/`: the launcher, the bundle, the restore thread's module, Ink).
 */
export function selfStamp(): string {
  if (self !== undefined) return self;
  const code = typeof SLIME_BUNDLE !== 'undefined' ? import.meta.dirname : path.resolve(import.meta.dirname, '..');
  let version = 'unknown';
  let lock = 'missing';
  for (let dir = code; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: string }).version ?? 'unknown';
      // The dependencies an evaluation runs through (esbuild bundles the module) change only with the lock file.
      lock = stampOf(path.join(dir, 'package-lock.json')).stamp;
      break;
    }
  }
  // Node itself evaluates the module: another Node may evaluate it otherwise.
  // The bundle's directory is four files: their stat lines themselves, not a digest of
  // them, so that a no-op, which hashes nothing else, does not load node:crypto (some
  // 3 ms of its start; src/setup/bundle.ts loads it on first use).
  const stamp = typeof SLIME_BUNDLE !== 'undefined' ? `listing:${treeListing(code, fs.statSync(code)).text}` : stampOf(code).stamp;
  self = `${FORMAT} ${version} node ${process.version} lock ${lock} ${stamp}`;
  return self;
}
