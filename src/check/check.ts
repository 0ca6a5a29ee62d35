/**
 * `slime check`: does building again give the same bytes?
 *
 * Like `nix-store --check` / `nix build --rebuild`: the target's graph is realized
 * first (what is not valid yet is built normally), then every derivation of it is
 * built again, `rounds` times, in its own build directory with its own environment,
 * and each output's NAR hash is compared with the registered one. A difference is
 * explained file by file (diff-tree.ts), the differing rebuild is kept as `<out>.check`
 * with `keepFailed`, and the verdict is recorded in the store (src/store/checks.ts)
 * and announced as a `checked` event.
 *
 * Fixed-output derivations: a fetched file (`builtin:fetch`) is not fetched again
 * (the cache would answer, which proves nothing): its store file is re-hashed and
 * compared with the declared hash. A fixed-output derivation with a builder (the
 * cargo vendor) is rebuilt like any other, and its NAR hash compared.
 *
 * Derivations that declare `nondeterministic` are rebuilt and compared as well; a
 * difference is reported as expected and does not fail the check.
 *
 * With `against`, nothing is rebuilt: each output's NAR hash is compared with the
 * NarHash of a binary cache's narinfo for the same store path.
 *
 * Nothing is left behind but the record, the check's log and `<out>.check`: the
 * rebuild's temporary outputs and build directory are deleted when the round ends,
 * fails or is interrupted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lockSharedBuildDir } from '../builder/build-dir-lock.js';
import { BuildFailure, SlimeError } from '../errors.js';
import { describeFailure } from '../run/failure.js';
import type { EventSink, SlimeEvent } from '../events.js';
import { hashFile } from '../hash/digest.js';
import { realizeGraph, type RealizeSummary } from '../scheduler/scheduler.js';
import type { GraphNode } from '../scheduler/plan.js';
import { checkReportsDir, MAX_FILES, recordCheck, type CheckRecord, type CheckVerdict, type OutputCheck } from '../store/checks.js';
import { acquireLock } from '../store/lock.js';
import { removeTree, type Store } from '../store/store.js';
import { diffTrees, type FileDifference } from './diff-tree.js';
import { openCache, readReachableCacheInfo, readSmallFile, type BinaryCache } from '../cache/binary-cache.js';
import { parseCacheInfo } from '../cache/cache-info.js';
import { MAX_NARINFO_BYTES, narInfoFileFor, parseNarInfo } from '../cache/narinfo.js';
import { toNixBase32 } from '../hash/base32.js';
import { parseHash } from '../hash/digest.js';
import { checkLogFile, rebuild, type RebuiltOutput } from './rebuild.js';

export interface CheckOptions {
  store: Store;
  events: EventSink;
  targets: string[];
  roots: string[];
  rounds: number;
  keepFailed: boolean;
  jobs: number;
  cores: number;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Run diffoscope on differing outputs (it must be installed). */
  diffoscope?: boolean;
  /** Compare with this binary cache's narinfos instead of rebuilding. */
  against?: string;
  /** Run builders in the build sandbox; by default as SLIME_SANDBOX says. */
  sandbox?: boolean;
  /** Check only the roots, not the derivations they depend on (which are still realized first). */
  only?: boolean;
  /** Do not rebuild derivations that declare themselves nondeterministic (verdict `skipped`). */
  skipNondeterministic?: boolean;
}

export interface CheckSummary {
  realize: RealizeSummary;
  records: CheckRecord[];
  interrupted: boolean;
}

type CheckedEvent = Extract<SlimeEvent, { type: 'checked' }>;

/** Where a differing rebuild is kept: beside the output, as Nix keeps `<out>.check`. */
export const keptPathOf = (out: string): string => `${out}.check`;

/** A NAR hash as a narinfo writes it (`sha256:` nix-base32), from any form the store or a cache uses. */
export function narHashText(h: string): string {
  return `sha256:${toNixBase32(parseHash(h, 'sha256').digest)}`;
}

/**
 * The cache `--against` names, through the same client substitution uses (file://,
 * http(s):// with its credentials): a binary cache for this store directory, or an
 * error that says which it is not, before anything is compared.
 */
async function openCacheFor(url: string, store: Store): Promise<BinaryCache> {
  const cache = await openCache(url);
  const text = await readReachableCacheInfo(cache, '; check the --against URL and that the cache is up');
  if (text === undefined) throw new SlimeError(`${cache.url} has no nix-cache-info: it is not a binary cache; check the --against URL`);
  const storeDir = parseCacheInfo(text).storeDir;
  if (storeDir !== store.dir) {
    throw new SlimeError(`the cache at ${cache.url} holds paths of the store ${storeDir}, not ${store.dir}: none of its narinfos can be this store's outputs; check another cache`);
  }
  return cache;
}

export async function checkGraph(nodes: GraphNode[], opts: CheckOptions): Promise<CheckSummary> {
  // Refused before anything is realized: a wrong --against should not cost a build first.
  const cache = opts.against === undefined ? undefined : await openCacheFor(opts.against, opts.store);
  const realize = await realizeGraph(nodes, {
    store: opts.store,
    events: opts.events,
    targets: opts.targets,
    roots: opts.roots,
    jobs: opts.jobs,
    cores: opts.cores,
    keepGoing: false,
    keepFailed: false,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    sandbox: opts.sandbox,
  });
  const records: CheckRecord[] = [];
  if (realize.failed.length > 0 || realize.skipped > 0 || opts.signal.aborted) {
    return { realize, records, interrupted: opts.signal.aborted };
  }
  for (const n of opts.only ? nodes.filter((x) => opts.roots.includes(x.drvPath)) : nodes) {
    if (opts.signal.aborted) break;
    const record = cache
      ? await checkAgainst(n, cache, opts)
      : opts.skipNondeterministic && n.nondeterministic
        ? skipped(n, opts.store)
      : n.drv.builder === 'builtin:fetch'
        ? await checkFetched(n, opts)
        : await checkByRebuilding(n, opts);
    if (!record) break;
    recordCheck(opts.store, record);
    records.push(record);
    opts.events.emit(checkedEvent(record));
  }
  return { realize, records, interrupted: opts.signal.aborted };
}

function checkedEvent(r: CheckRecord): CheckedEvent {
  return {
    type: 'checked',
    time: r.time,
    drvPath: r.drvPath,
    verdict: r.verdict,
    rounds: r.rounds,
    roundMs: r.roundMs,
    outputs: r.outputs as CheckedEvent['outputs'],
    ...(r.nondeterministic ? { nondeterministic: r.nondeterministic } : {}),
    ...(r.against ? { against: r.against } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.diffoscope ? { diffoscope: r.diffoscope } : {}),
  };
}

function registeredHash(store: Store, out: string): string {
  const info = store.queryInfo(out);
  if (!info) throw new Error(`internal error: ${out} is not valid after realizing it`);
  return info.narHash;
}

/** A declared nondeterministic derivation, left alone (`skipNondeterministic`). */
function skipped(n: GraphNode, store: Store): CheckRecord {
  return {
    drvPath: n.drvPath,
    name: n.name,
    time: Date.now(),
    rounds: 0,
    verdict: 'skipped',
    roundMs: [],
    outputs: Object.fromEntries(Object.entries(n.outputs).map(([name, out]) => [name, { path: out, narHash: registeredHash(store, out), rebuilt: [] }])),
    nondeterministic: n.nondeterministic,
  };
}

/** A fetched file: re-hashed against its declared hash (no network). */
async function checkFetched(n: GraphNode, opts: CheckOptions): Promise<CheckRecord> {
  const out = n.drv.outputs.out;
  const actual = await hashFile(out.path, 'sha256');
  const ok = actual.equals(Buffer.from(out.hash, 'hex'));
  return {
    drvPath: n.drvPath,
    name: n.name,
    time: Date.now(),
    rounds: 0,
    verdict: ok ? 'fixed-output-ok' : 'differs',
    roundMs: [],
    outputs: {
      out: {
        path: out.path,
        narHash: registeredHash(opts.store, out.path),
        rebuilt: [],
      },
    },
    ...(ok ? {} : { error: `the stored file's sha256 is ${actual.toString('hex')}, not the declared ${out.hash}; run slime verify --repair` }),
  };
}

async function checkAgainst(n: GraphNode, cache: BinaryCache, opts: CheckOptions): Promise<CheckRecord> {
  const url = cache.url;
  opts.events.emit({ type: 'check-started', time: Date.now(), drvPath: n.drvPath, round: 1, rounds: 1, against: url });
  const outputs: Record<string, OutputCheck> = {};
  const verdicts: CheckVerdict[] = [];
  for (const [name, out] of Object.entries(n.outputs)) {
    const local = registeredHash(opts.store, out);
    const remote = await cachedNarHash(cache, out);
    outputs[name] = { path: out, narHash: local, rebuilt: remote ? [remote] : [] };
    verdicts.push(!remote ? 'not-in-cache' : narHashText(local) === remote ? 'cache-equal' : 'cache-differs');
  }
  const verdict = verdicts.includes('cache-differs') ? 'cache-differs' : verdicts.includes('not-in-cache') ? 'not-in-cache' : 'cache-equal';
  return {
    drvPath: n.drvPath,
    name: n.name,
    time: Date.now(),
    rounds: 1,
    verdict,
    roundMs: [],
    outputs,
    against: url,
    ...(n.nondeterministic ? { nondeterministic: n.nondeterministic } : {}),
  };
}

/** The NarHash the cache's narinfo gives `storePath` (`sha256:` nix-base32), or undefined when it has none. */
async function cachedNarHash(cache: BinaryCache, storePath: string): Promise<string | undefined> {
  const file = narInfoFileFor(storePath);
  let text: string | undefined;
  try {
    text = await readSmallFile(cache, file, MAX_NARINFO_BYTES);
  } catch (e) {
    throw new SlimeError(`cannot read ${cache.url}/${file}: ${(e as Error).message}; check the --against URL and that the cache is up`);
  }
  if (text === undefined) return undefined;
  const info = parseNarInfo(text, path.dirname(storePath));
  if (info.storePath !== storePath) throw new SlimeError(`${cache.url}/${file} is the narinfo of ${info.storePath}, not of ${storePath}; the cache is damaged`);
  return `sha256:${toNixBase32(info.narHash)}`;
}

/** Returns undefined when interrupted (nothing is recorded then). */
async function checkByRebuilding(n: GraphNode, opts: CheckOptions): Promise<CheckRecord | undefined> {
  const { store } = opts;
  const outputs: Record<string, OutputCheck> = {};
  for (const [name, out] of Object.entries(n.outputs)) {
    outputs[name] = { path: out, narHash: registeredHash(store, out), rebuilt: [] };
    removeTree(keptPathOf(out));
  }
  const record: CheckRecord = {
    drvPath: n.drvPath,
    name: n.name,
    time: 0,
    rounds: opts.rounds,
    verdict: 'equal',
    roundMs: [],
    outputs,
    ...(n.nondeterministic ? { nondeterministic: n.nondeterministic } : {}),
  };
  let differed = false;
  let lock: Awaited<ReturnType<typeof acquireLock>> | undefined;
  let dirLock: Awaited<ReturnType<typeof lockSharedBuildDir>>;
  try {
    lock = await acquireLock(store.lockFile(n.drvPath), {
      signal: opts.signal,
      onWait: () => opts.events.emit({ type: 'lock-wait', time: Date.now(), drvPath: n.drvPath }),
    });
    dirLock = await lockSharedBuildDir(n.drv.env, {
      signal: opts.signal,
      onWait: () => opts.events.emit({ type: 'lock-wait', time: Date.now(), drvPath: n.drvPath }),
    });
    for (let round = 1; round <= opts.rounds; round++) {
      opts.events.emit({ type: 'check-started', time: Date.now(), drvPath: n.drvPath, round, rounds: opts.rounds, logPath: checkLogFile(store, n.drvPath) });
      const started = Date.now();
      let rebuilt: Record<string, RebuiltOutput> | undefined;
      try {
        rebuilt = await rebuild(
          { drvPath: n.drvPath, name: n.name, drv: n.drv, inputPaths: n.inputPaths, phases: n.phases, timeoutMs: n.timeoutMs },
          { store, emit: (e) => opts.events.emit(e), cores: opts.cores, signal: opts.signal, timeoutMs: opts.timeoutMs, sandbox: opts.sandbox },
        );
        record.roundMs.push(Date.now() - started);
        for (const [name, r] of Object.entries(rebuilt)) {
          const o = outputs[name];
          o.rebuilt.push(r.narHash);
          if (r.narHash === o.narHash) continue;
          differed = true;
          if (opts.signal.aborted) break;
          const differences = await diffTrees(o.path, r.tempPath);
          o.differences = differences.slice(0, MAX_FILES);
          if (differences.length > MAX_FILES) o.differencesCut = differences.length - MAX_FILES;
          if (opts.diffoscope && !opts.signal.aborted) {
            try {
              (record.diffoscope ??= []).push(await runDiffoscope(store, n, name, round, o.path, r.tempPath, opts.signal));
            } catch (e) {
              // diffoscope's trouble is not the build's: the verdict stands, the report says why it is missing.
              if (!opts.signal.aborted) record.error = `diffoscope gave no report: ${(e as Error).message}`;
            }
          }
          if (opts.keepFailed && o.keptAt === undefined) {
            fs.renameSync(r.tempPath, keptPathOf(o.path));
            o.keptAt = keptPathOf(o.path);
          }
        }
      } finally {
        for (const r of Object.values(rebuilt ?? {})) removeTree(r.tempPath);
      }
      if (opts.signal.aborted) break;
    }
  } catch (e) {
    if (opts.signal.aborted || (e instanceof BuildFailure && e.reason.kind === 'interrupted') || (e as Error).name === 'AbortError') {
      return cleanUpInterrupted(outputs);
    }
    record.verdict = 'failed';
    record.error = e instanceof BuildFailure
      ? `${describeFailure(e.reason)}${e.phase ? ` during ${e.phase}` : ''}${e.logPath ? `; log: ${e.logPath}` : ''}`
      : (e as Error).message;
  } finally {
    await dirLock?.release();
    await lock?.release();
  }
  if (opts.signal.aborted) return cleanUpInterrupted(outputs);
  if (record.verdict !== 'failed' && differed) record.verdict = n.nondeterministic ? 'expected-to-differ' : 'differs';
  record.time = Date.now();
  return record;
}

/** An interrupted check keeps nothing, not even a `.check` from an earlier round. */
function cleanUpInterrupted(outputs: Record<string, OutputCheck>): undefined {
  for (const o of Object.values(outputs)) removeTree(keptPathOf(o.path));
  return undefined;
}

function diffoscopeAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, 'diffoscope')));
}

/** Fails early, before anything is built, when `--diffoscope` cannot run. */
export function requireDiffoscope(): void {
  if (!diffoscopeAvailable()) {
    throw new Error('diffoscope is not installed (it is not on PATH); install it with `apt-get install --no-install-recommends diffoscope-minimal` or drop --diffoscope');
  }
}

const DIFFOSCOPE_TIMEOUT_MS = 30 * 60 * 1000;

/** diffoscope's text and HTML reports of one differing output, in the store's checks directory. */
async function runDiffoscope(store: Store, n: GraphNode, output: string, round: number, stored: string, rebuilt: string, signal: AbortSignal): Promise<{ text: string; html: string }> {
  const dir = checkReportsDir(store);
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${path.basename(n.drvPath)}.${output}.round${round}.diffoscope`);
  const text = `${base}.txt`;
  const html = `${base}.html`;
  const { execa } = await import('execa');
  const r = await execa('diffoscope', ['--no-progress', '--exclude-directory-metadata', 'yes', '--text', text, '--html', html, stored, rebuilt], {
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    cancelSignal: signal,
    timeout: DIFFOSCOPE_TIMEOUT_MS,
  });
  // diffoscope exits 1 when it found differences, which is the point here.
  if (r.exitCode === 0 || r.exitCode === 1) return { text, html };
  if (r.isCanceled) throw new Error('diffoscope was stopped: the check was interrupted');
  if (r.timedOut) throw new Error(`diffoscope did not finish within ${DIFFOSCOPE_TIMEOUT_MS / 60_000} minutes on ${stored}`);
  const why = r.exitCode !== undefined ? `exited with ${r.exitCode}` : r.signal ? `was killed by ${r.signal}` : (r.originalMessage ?? r.shortMessage);
  throw new Error(`diffoscope ${why}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
}

export type { FileDifference };
