/**
 * Realizes one derivation whose inputs are already valid: under the derivation's
 * lock, either finds its outputs valid (another process built them meanwhile),
 * fetches a fixed-output file, or runs the builder; then finalizes the outputs.
 * A failure leaves nothing in the store.
 */
import fs from 'node:fs';
import { BuildFailure } from '../errors.js';
import type { DrvData } from '../derivation/aterm.js';
import type { FailureReason } from '../events.js';
import type * as FetchFixed from '../fetch/fetch-fixed.js';
import type { Mirror } from '../fetch/mirror.js';
import { hashFile } from '../hash/digest.js';
import { hashPath } from '../nar/hash.js';
import type { Substituter } from '../cache/substituter.js';
import { acquireLock } from '../store/lock.js';
import { addPath, fixedCa, sriOf } from '../store/add-path.js';
import { diskUsage, removeTree, type Store } from '../store/store.js';
import { lockSharedBuildDir } from './build-dir-lock.js';
import { buildDirFor, ensureBuildRoot } from './build-dir.js';
import { assertHomelessShelterAbsent, signalOf } from './run-builder.js';
import { buildIntoTemporaries, type BuildSettings } from './build-into-temporaries.js';
import { awaitOrphanedBuild } from './orphans.js';

export interface BuildRequest {
  drvPath: string;
  name: string;
  drv: DrvData;
  /** Store paths of the inputs: sources and the input derivations' outputs. */
  inputPaths: string[];
  phases?: string;
  /** Writes a sample comparison's report.json, which a failed build keeps beside its log. */
  comparesSamples?: boolean;
  timeoutMs?: number;
  /** Build even if the outputs are valid, and replace them (`slime verify --repair`). */
  repair?: boolean;
}

export interface BuildOptions extends BuildSettings {
  keepFailed: boolean;
  /** Binary caches to try before building; absent: always build. */
  substituter?: Substituter;
}

export type BuildResult =
  | { action: 'cached' | 'built'; outputs: Record<string, string>; durationMs: number }
  | { action: 'substituted'; outputs: Record<string, string>; durationMs: number; from: string };

const outputsOf = (drv: DrvData) => Object.fromEntries(Object.entries(drv.outputs).map(([k, v]) => [k, v.path]));

export async function realizeDerivation(req: BuildRequest, opts: BuildOptions): Promise<BuildResult> {
  const { store } = opts;
  const outputs = outputsOf(req.drv);
  return underDrvLock(req, opts, outputs, () => !req.repair && store.allValid(Object.values(outputs)), async () => {
    const started = Date.now();
    const from = await substitute(req, opts, outputs);
    if (from !== undefined) return { action: 'substituted', outputs, durationMs: Date.now() - started, from };
    const dirLock = await lockSharedBuildDir(req.drv.env, {
      signal: opts.signal,
      onWait: () => opts.emit({ type: 'lock-wait', time: Date.now(), drvPath: req.drvPath }),
    });
    try {
      if (req.drv.builder === 'builtin:fetch') await fetchOutput(req, opts);
      else await buildOutputs(req, opts);
    } finally {
      await dirLock?.release();
    }
    const durationMs = Date.now() - started;
    try {
      store.recordDuration(req.name, durationMs);
    } catch {
      // A duration is only for ETAs: a full disk here must not fail a registered build.
    }
    return { action: 'built', outputs, durationMs };
  });
}

/**
 * `work` under the derivation's lock, after any builder a dead lock holder left running;
 * `cached` instead when the outputs are valid before the lock or once it is held.
 */
async function underDrvLock<T>(
  req: BuildRequest,
  opts: BuildOptions,
  outputs: Record<string, string>,
  valid: () => boolean,
  work: () => Promise<T>,
): Promise<T | BuildResult> {
  const cached: BuildResult = { action: 'cached', outputs, durationMs: 0 };
  if (valid()) return cached;
  const lock = await acquireLock(opts.store.lockFile(req.drvPath), {
    signal: opts.signal,
    onWait: () => opts.emit({ type: 'lock-wait', time: Date.now(), drvPath: req.drvPath }),
  });
  try {
    if (valid()) return cached;
    // A process that held this lock and died may have left its builder running.
    await awaitOrphanedBuild(opts.store, req.drvPath);
    return await work();
  } finally {
    await lock.release();
  }
}

/**
 * Substitution alone, before the derivation's inputs are valid (a substitute needs
 * its references, which the substituter fetches, not the build's inputs): under the
 * derivation's lock, the outputs from a cache, or undefined when no cache delivered
 * them all (the caller builds once the inputs are there).
 */
export async function substituteDerivation(req: BuildRequest, opts: BuildOptions): Promise<BuildResult | undefined> {
  const outputs = outputsOf(req.drv);
  return underDrvLock(req, opts, outputs, () => opts.store.allValid(Object.values(outputs)), async () => {
    const started = Date.now();
    const from = await substitute(req, opts, outputs);
    return from === undefined ? undefined : ({ action: 'substituted', outputs, durationMs: Date.now() - started, from } as const);
  });
}

/** Asks the binary caches for the outputs; the cache they came from, or undefined to build. */
async function substitute(req: BuildRequest, opts: BuildOptions, outputs: Record<string, string>): Promise<string | undefined> {
  if (!opts.substituter) return undefined;
  const drvPath = req.drvPath;
  return opts.substituter.substituteOutputs(Object.values(outputs), {
    drvPath,
    signal: opts.signal,
    onStart: () => opts.emit({ type: 'started', time: Date.now(), drvPath, action: 'substitute' }),
    onProgress: (p) => opts.emit({ type: 'progress', time: Date.now(), drvPath, direction: 'download', ...p }),
    warn: (cache, path, reason) => opts.emit({ type: 'cache-warning', time: Date.now(), cache, drvPath, path, reason }),
  });
}

async function buildOutputs(req: BuildRequest, opts: BuildOptions): Promise<void> {
  const { store } = opts;
  assertHomelessShelterAbsent();
  const buildDir = buildDirFor(req.drvPath, req.drv.env);
  const logPath = store.logFile(req.drvPath);
  const tempOutputs = prepareOrFail(req, store, buildDir, logPath);
  opts.emit({ type: 'started', time: Date.now(), drvPath: req.drvPath, action: 'build', logPath });
  const started = Date.now();
  // What the builder may see and what its outputs may refer to: asked of the store once.
  const inputClosure = store.closure(req.inputPaths);
  const { failure, phase } = await buildIntoTemporaries(req, opts, { buildDir, tempOutputs, logPath, inputClosure });
  if (failure) {
    keepFailedReport(req, tempOutputs, logPath);
    fail(withDiskNote(failure, store, tempOutputs), { phase, logPath, buildDir, tempOutputs, keep: opts.keepFailed });
  }
  try {
    await finalizeAll(req, opts, tempOutputs, Date.now() - started, inputClosure);
  } catch (e) {
    if (e instanceof BuildFailure) throw e;
    fail({ kind: 'internal', message: (e as Error).message }, { phase, logPath, buildDir, tempOutputs, keep: false });
  } finally {
    discard(buildDir, tempOutputs);
  }
}

/**
 * A builder that fails on a full disk says only "exit 1": if the store's file system is
 * (nearly) full, say so, and how much the outputs had reached.
 */
function withDiskNote(reason: FailureReason, store: Store, tempOutputs: Record<string, string>): FailureReason {
  if (reason.kind !== 'exit') return reason;
  try {
    const fsStat = fs.statfsSync(store.dir);
    const free = fsStat.bavail * fsStat.bsize;
    if (free > 64 * 1024) return reason;
    const written = Object.values(tempOutputs).reduce((sum, t) => sum + diskUsage(t), 0);
    const exit = reason.signal ? `killed by ${reason.signal}` : `exited with code ${reason.exitCode}`;
    return {
      kind: 'internal',
      message: `builder ${exit}; the store's file system (${store.dir}) is full (${free} bytes free) after the outputs reached ${written} bytes; free space and build again`,
    };
  } catch {
    return reason;
  }
}

/** prepare(), with a full disk (or any failure to set up) said as a build failure that leaves nothing. */
function prepareOrFail(req: BuildRequest, store: Store, buildDir: string, logPath: string): Record<string, string> {
  try {
    return prepare(req, store, buildDir, logPath);
  } catch (e) {
    const tempOutputs = Object.fromEntries(Object.entries(req.drv.outputs).map(([n, o]) => [n, store.tempPathFor(o.path)]));
    discard(buildDir, tempOutputs);
    throw new BuildFailure({ kind: 'internal', message: `cannot prepare the build of ${req.drvPath}: ${(e as Error).message}` });
  }
}

function prepare(req: BuildRequest, store: Store, buildDir: string, logPath: string): Record<string, string> {
  ensureBuildRoot();
  removeTree(buildDir);
  fs.mkdirSync(buildDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(logPath, '');
  const tempOutputs: Record<string, string> = {};
  for (const [name, out] of Object.entries(req.drv.outputs)) {
    tempOutputs[name] = store.tempPathFor(out.path);
    removeTree(tempOutputs[name]);
  }
  return tempOutputs;
}

/**
 * A verification that finds differences fails, so its output never enters the store;
 * its report is what says which samples differ, so it is kept beside the log.
 */
function keepFailedReport(req: BuildRequest, tempOutputs: Record<string, string>, logPath: string): void {
  const report = tempOutputs.out && `${tempOutputs.out}/report.json`;
  if (req.comparesSamples === true && report && fs.existsSync(report)) fs.copyFileSync(report, failedReportPath(logPath));
}

export function failedReportPath(logPath: string): string {
  return logPath.replace(/\.log$/, '.report.json');
}

function fail(
  reason: FailureReason,
  ctx: { phase?: string; logPath?: string; buildDir: string; tempOutputs: Record<string, string>; keep: boolean },
): never {
  discard(ctx.buildDir, ctx.tempOutputs, ctx.keep);
  throw new BuildFailure(reason, ctx.phase, ctx.logPath, ctx.keep ? ctx.buildDir : undefined);
}

/** Removes what a build left outside the store; a failed build's directory stays when the user asked to keep it. */
function discard(buildDir: string, tempOutputs: Record<string, string>, keepBuildDir = false): void {
  for (const t of Object.values(tempOutputs)) removeTree(t);
  if (!keepBuildDir) removeTree(buildDir);
}

async function finalizeAll(
  req: BuildRequest,
  opts: BuildOptions,
  tempOutputs: Record<string, string>,
  buildDurationMs: number,
  inputClosure: Set<string>,
): Promise<void> {
  const { store } = opts;
  // The inputs' closure and the outputs themselves: the only paths an output can refer to.
  const candidates = [...inputClosure, ...Object.values(req.drv.outputs).map((o) => o.path)];
  for (const [name, out] of Object.entries(req.drv.outputs)) {
    const fixed = out.hash ? await checkFixedOutput(tempOutputs[name], out) : undefined;
    if (fixed?.mismatch) {
      fail(fixed.mismatch, { logPath: store.logFile(req.drvPath), buildDir: buildDirFor(req.drvPath, req.drv.env), tempOutputs, keep: opts.keepFailed });
    }
    await addPath({
      store,
      tempPath: tempOutputs[name],
      finalPath: out.path,
      referenceCandidates: candidates,
      deriver: req.drvPath,
      ca: fixed?.ca,
      buildDurationMs,
      repair: req.repair,
    });
  }
}

async function checkFixedOutput(
  tempPath: string,
  out: DrvData['outputs'][string],
): Promise<{ ca: () => string; mismatch?: FailureReason }> {
  const recursive = out.hashAlgo.startsWith('r:');
  const algo = out.hashAlgo.replace(/^r:/, '');
  const expected = Buffer.from(out.hash, 'hex');
  const ca = () => fixedCa(recursive ? 'recursive' : 'flat', algo, expected);
  if (!recursive && !fs.lstatSync(tempPath).isFile()) {
    return { ca, mismatch: { kind: 'internal', message: `the output of a flat fixed-output derivation must be a regular file, and ${tempPath} is not; write one file to $out, or hash the output recursively` } };
  }
  const actual = recursive ? (await hashPath(tempPath)).narHash : await hashFile(tempPath, 'sha256');
  if (algo !== 'sha256') {
    return { ca, mismatch: { kind: 'internal', message: `fixed-output hash algorithm ${algo} is not supported; use sha256` } };
  }
  if (!actual.equals(expected)) {
    return { ca, mismatch: { kind: 'hash-mismatch', expected: sriOf(expected), actual: sriOf(actual) } };
  }
  return { ca };
}

/** `builtin:fetch`: the mirrors are in the derivation's `urls`, so a `.drv` alone is enough to fetch. */
async function fetchOutput(req: BuildRequest, opts: BuildOptions): Promise<void> {
  const { store } = opts;
  const out = req.drv.outputs.out;
  const workDir = buildDirFor(req.drvPath, req.drv.env);
  const logPath = store.logFile(req.drvPath);
  const tempOutputs = prepareOrFail(req, store, workDir, logPath);
  const tempPath = tempOutputs.out;
  opts.emit({ type: 'started', time: Date.now(), drvPath: req.drvPath, action: 'fetch', logPath });
  const started = Date.now();
  // Loaded only when something is fetched: cacache and its dependencies cost a no-op run ~50 ms.
  const fetching = await import('../fetch/fetch-fixed.js');
  try {
    await fetching.fetchFixed({
      name: req.name,
      sha256: Buffer.from(out.hash, 'hex'),
      mirrors: parseMirrors(req.drv.env.urls ?? ''),
      dest: tempPath,
      cacheDir: store.cacheDir,
      workDir,
      signal: opts.signal,
      onProgress: (p) => opts.emit({ type: 'progress', time: Date.now(), drvPath: req.drvPath, direction: 'download', ...p }),
      log: (line) => {
        fs.appendFileSync(logPath, line + '\n');
        opts.emit({ type: 'log', time: Date.now(), drvPath: req.drvPath, stream: 'stderr', line });
      },
    });
  } catch (e) {
    discard(workDir, tempOutputs);
    throw new BuildFailure(fetchFailureReason(fetching, e, opts.signal), 'fetch', logPath);
  }
  discard(workDir, {});
  try {
    await addPath({
      store,
      tempPath,
      finalPath: out.path,
      referenceCandidates: [],
      deriver: req.drvPath,
      ca: () => fixedCa('flat', 'sha256', Buffer.from(out.hash, 'hex')),
      buildDurationMs: Date.now() - started,
      repair: req.repair,
    });
  } catch (e) {
    throw new BuildFailure({ kind: 'internal', message: (e as Error).message }, 'fetch', logPath);
  }
}

function fetchFailureReason({ HashMismatchError, FetchFailedError }: typeof FetchFixed, e: unknown, signal: AbortSignal): FailureReason {
  if (e instanceof HashMismatchError) return { kind: 'hash-mismatch', expected: e.expected, actual: e.actual, url: e.source };
  if (e instanceof FetchFailedError) return { kind: 'fetch', tried: e.tried };
  if ((e as Error).name === 'AbortError') return { kind: 'interrupted', signal: signalOf(signal) };
  return { kind: 'internal', message: (e as Error).message };
}

/** Inverse of the `urls` encoding in src/derivation/api.ts: URLs, `apt-source:PKG[=VERSION]/FILE` and `pip:PKG==VERSION/FILE`. */
export function parseMirrors(urls: string): Mirror[] {
  return urls
    .split(/\s+/)
    .filter(Boolean)
    .map((u): Mirror => {
      const pip = /^pip:([^=/]+)==([^/]+)\/(.+)$/.exec(u);
      if (pip) return { pip: { package: pip[1], version: pip[2], file: pip[3] } };
      const apt = /^apt-source:([^=/]+)(?:=([^/]+))?\/(.+)$/.exec(u);
      return apt ? { aptSource: { package: apt[1], version: apt[2], file: apt[3] } } : { url: u };
    });
}

export { defaultCores } from './cores.js';
