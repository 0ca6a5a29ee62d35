/**
 * Substitution: getting a derivation's outputs from binary caches instead of building
 * them, as Nix's substituters do.
 *
 * Caches are asked in priority order (nix-cache-info's Priority, lower first; then
 * the order given). Narinfo queries run in parallel and are remembered for the run,
 * so `prefetch` can ask for every path the plan may need at once. A narinfo is used
 * only if its StorePath is the path asked for, in this store's directory, and a
 * trusted key signed it; its references are substituted while its own NAR is streamed
 * and checked (./pull.ts), and it is registered only after them.
 *
 * Any failure of a cache (unreachable, HTTP error, timeout, bad signature, hash or
 * size mismatch, malformed NAR, ...) is reported through `warn` with the cache and
 * the reason, and the next cache is tried; the caller builds when none delivers.
 */
import PQueue from 'p-queue';
import { SlimeError } from '../errors.js';
import { ProgressMeter, type FetchProgress } from '../fetch/progress.js';
import { withLock } from '../store/lock.js';
import { hashPartOf } from '../store/paths.js';
import type { Store } from '../store/store.js';
import { type BinaryCache, CacheError, openCache, readCacheInfoFile, readSmallFile } from './binary-cache.js';
import { DEFAULT_PRIORITY, parseCacheInfo } from './cache-info.js';
import { fingerprint, MAX_NARINFO_BYTES, narInfoFileFor, parseNarInfo, type NarInfo } from './narinfo.js';
import { pullPath } from './pull.js';
import { parsePublicKey, trustedSigner, type PublicKey } from './signing.js';

export interface SubstituteContext {
  /** The derivation the work is for, in events. */
  drvPath: string;
  /** Called once a verified narinfo is found and its NAR is about to be downloaded. */
  onStart?: (cacheUrl: string) => void;
  onProgress?: (p: FetchProgress) => void;
  warn: (cacheUrl: string, storePath: string | undefined, reason: string) => void;
  signal?: AbortSignal;
}

interface CacheEntry {
  url: string;
  cache?: BinaryCache;
  priority: number;
  order: number;
  /** Why the cache is not used in this run, once that is known. */
  disabled?: string;
}

/** What a cache says of a path before it is downloaded (unchecked until then). */
export interface CachedPath {
  narSize: number;
  references: string[];
}

type Query = { kind: 'found'; info: NarInfo } | { kind: 'absent' } | { kind: 'error'; reason: string };

const QUERY_CONCURRENCY = 16;

export class Substituter {
  private readonly entries: CacheEntry[];
  private readonly trusted: PublicKey[];
  private opened?: Promise<CacheEntry[]>;
  private readonly queries = new Map<string, Promise<Query>>();
  private readonly queue = new PQueue({ concurrency: QUERY_CONCURRENCY });
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  /** The cache each path's download came from, once started. */
  private readonly startedFrom = new Map<string, string>();
  /** Paths this run substituted, as an output or as another's reference: where from, and how long it took. */
  private readonly delivered = new Map<string, { from: string; durationMs: number }>();

  constructor(
    private readonly store: Store,
    urls: string[],
    trustedKeys: string[],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.entries = urls.map((url, order) => ({ url, priority: DEFAULT_PRIORITY, order }));
    this.trusted = trustedKeys.map((k) => parsePublicKey(k));
  }

  get urls(): string[] {
    return this.entries.map((e) => e.url);
  }

  /** Opens each cache once: reads its nix-cache-info, checks its store dir, learns its priority. */
  private open(warn: SubstituteContext['warn']): Promise<CacheEntry[]> {
    this.opened ??= Promise.all(
      this.entries.map(async (e) => {
        try {
          e.cache = await openCache(e.url, this.env);
          const text = await readCacheInfoFile(e.cache);
          if (text === undefined) throw new CacheError('it has no nix-cache-info: it does not exist or is not the root of a binary cache');
          const info = parseCacheInfo(text);
          if (info.storeDir !== this.store.dir) {
            throw new CacheError(`it is for store dir ${info.storeDir}, not ${this.store.dir}`);
          }
          e.priority = info.priority ?? DEFAULT_PRIORITY;
        } catch (err) {
          e.disabled = reasonOf(err);
          warn(e.url, undefined, `${e.disabled}; not using it in this run`);
        }
        return e;
      }),
    ).then((all) => [...all].sort((a, b) => a.priority - b.priority || a.order - b.order));
    return this.opened;
  }

  private query(entry: CacheEntry, storePath: string): Promise<Query> {
    const key = `${entry.order} ${storePath}`;
    let q = this.queries.get(key);
    if (!q) {
      q = this.queue.add(async (): Promise<Query> => {
        try {
          const text = await readSmallFile(entry.cache!, narInfoFileFor(storePath), MAX_NARINFO_BYTES);
          if (text === undefined) return { kind: 'absent' };
          return { kind: 'found', info: parseNarInfo(text, this.store.dir) };
        } catch (err) {
          return { kind: 'error', reason: reasonOf(err) };
        }
      }) as Promise<Query>;
      this.queries.set(key, q);
    }
    return q;
  }

  /**
   * Starts narinfo queries for `paths` on every cache, in parallel; resolves, once they
   * are answered, to the paths that some cache has a narinfo for (not yet checked:
   * substituteOutputs checks each before using it), each with the NarSize and the
   * References its first cache gives (the biggest download can start first; the
   * scheduler needs the derivations of the references, not the build inputs).
   */
  prefetch(paths: string[], warn: SubstituteContext['warn']): Promise<Map<string, CachedPath>> {
    return this.open(warn).then(async (entries) => {
      const live = entries.filter((e) => !e.disabled);
      const wanted = paths.filter((p) => !this.store.isValid(p));
      const answers = await Promise.all(wanted.map((p) => Promise.all(live.map((e) => this.query(e, p)))));
      const found = new Map<string, CachedPath>();
      wanted.forEach((p, i) => {
        const first = answers[i].find((a) => a.kind === 'found');
        if (first?.kind === 'found') found.set(p, { narSize: first.info.narSize, references: first.info.references });
      });
      return found;
    });
  }

  /**
   * Substitutes every path in `outputs` that is not valid (the caller holds their
   * derivation's lock). Returns the cache they came from, or undefined when some
   * output is in no cache or no cache could deliver it (the caller builds).
   */
  async substituteOutputs(outputs: string[], ctx: SubstituteContext): Promise<string | undefined> {
    const entries = (await this.open(ctx.warn)).filter((e) => !e.disabled);
    if (entries.length === 0) return undefined;
    const missing = outputs.filter((p) => !this.store.isValid(p));
    // Nothing is downloaded unless every output is somewhere: a half-substituted
    // derivation would be built anyway.
    for (const p of missing) {
      const answers = await Promise.all(entries.map((e) => this.query(e, p)));
      if (!answers.some((a) => a.kind === 'found')) {
        answers.forEach((a, i) => a.kind === 'error' && ctx.warn(entries[i].url, p, a.reason));
        return undefined;
      }
    }
    let from: string | undefined;
    for (const p of missing) {
      from = await this.substituteOnce(p, ctx, true);
      if (from === undefined) return undefined;
    }
    return from ?? 'the store';
  }

  /** A path, from the first cache that delivers it; references first. */
  private async substitutePath(storePath: string, ctx: SubstituteContext, top: boolean): Promise<string | undefined> {
    const entries = (await this.open(ctx.warn)).filter((e) => !e.disabled);
    for (const entry of entries) {
      const q = await this.query(entry, storePath);
      if (q.kind === 'absent') continue;
      if (q.kind === 'error') {
        ctx.warn(entry.url, storePath, q.reason);
        continue;
      }
      const problem = this.checkNarInfo(q.info, storePath);
      if (problem) {
        ctx.warn(entry.url, storePath, problem);
        continue;
      }
      try {
        // The references are substituted while this path downloads and restores (the
        // isolate beside the CPython it refers to); it is registered only once they are valid.
        const missing = q.info.references.filter((ref) => ref !== storePath && !this.store.isValid(ref));
        const referencesValid = Promise.all(
          missing.map(async (ref) => {
            const got = await this.substituteOnce(ref, ctx, false);
            if (got === undefined) throw new SlimeError(`its reference ${ref} could not be substituted from any cache`);
          }),
        ).then(() => undefined);
        // Awaited by pullPath; a failure while the NAR is still downloading is reported there.
        referencesValid.catch(() => undefined);
        this.startedFrom.set(storePath, entry.url);
        if (top) ctx.onStart?.(entry.url);
        const meter = new ProgressMeter(entry.url, ctx.onProgress, q.info.fileSize);
        const began = Date.now();
        await pullPath(this.store, entry.cache!, q.info, { signal: ctx.signal, onDownloaded: (n) => meter.add(n), referencesValid });
        meter.finish();
        this.delivered.set(storePath, { from: entry.url, durationMs: Date.now() - began });
        return entry.url;
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        ctx.warn(entry.url, storePath, reasonOf(err));
      }
    }
    return undefined;
  }

  /**
   * A path is substituted under its own path lock and once per process, whether a
   * derivation wants it as its output (`top`) or another path as a reference: a
   * derivation substituted ahead of its inputs (pyo3-config, say, whose reference is
   * the CPython output) must not download and restore that output a second time
   * while the CPython derivation substitutes it (the loser's tree, 321 MB, was then
   * thrown away).
   */
  private substituteOnce(storePath: string, ctx: SubstituteContext, top: boolean): Promise<string | undefined> {
    let p = this.inflight.get(storePath);
    if (!p) {
      p = withLock(this.store.lockFile(storePath), { signal: ctx.signal }, async () =>
        this.store.isValid(storePath) ? 'the store' : this.substitutePath(storePath, ctx, top),
      ).finally(() => this.inflight.delete(storePath));
      this.inflight.set(storePath, p);
    } else if (top) {
      // Joining a substitution under way as a reference: the derivation's own start is now.
      ctx.onStart?.(this.startedFrom.get(storePath) ?? this.entries[0].url);
    }
    return p;
  }

  /**
   * Whether this run substituted every one of `paths` (a derivation's outputs that another
   * path's substitution brought in as its reference before the derivation's own turn):
   * the cache and the longest download, or undefined.
   */
  deliveredInThisRun(paths: string[]): { from: string; durationMs: number } | undefined {
    const each = paths.map((p) => this.delivered.get(p));
    if (paths.length === 0 || each.some((d) => d === undefined)) return undefined;
    return { from: each[0]!.from, durationMs: Math.max(...each.map((d) => d!.durationMs)) };
  }

  /** Why a narinfo cannot be trusted for `storePath`, or undefined. */
  private checkNarInfo(info: NarInfo, storePath: string): string | undefined {
    if (info.storePath !== storePath) {
      return `its narinfo for ${hashPartOf(storePath)} describes ${info.storePath}, another path`;
    }
    if (this.trusted.length === 0) {
      return 'no trusted public keys are configured (--trusted-public-keys, SLIME_TRUSTED_PUBLIC_KEYS or the config file), so no narinfo can be trusted';
    }
    if (info.sigs.length === 0) return 'its narinfo is not signed';
    if (trustedSigner(info.sigs, fingerprint(info), this.trusted) !== undefined) return undefined;
    const names = info.sigs.map((s) => s.slice(0, Math.max(0, s.indexOf(':'))));
    const trustedNames = new Set(this.trusted.map((k) => k.name));
    const byTrusted = names.filter((n) => trustedNames.has(n));
    return byTrusted.length > 0
      ? `its signature by ${byTrusted.join(', ')} does not verify (tampered narinfo or wrong key)`
      : `it is signed only by keys that are not trusted (${names.join(', ')})`;
  }
}

export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim();
}
