/**
 * The store: `<dir>/<hash>-<name>` paths plus slime's state in `<dir>/.slime/`.
 *
 * The one invariant: a store path is valid iff its metadata is registered
 * (`.slime/db/<hash>.json`, written atomically after the path is complete and
 * read-only). Everything else in the store directory — a path whose registration
 * never happened, anything in `.slime/tmp/` — is garbage that a build may delete and
 * `slime gc` does delete.
 *
 * `<dir>/.roots/` holds gc roots: symlinks to store paths, or (in `.roots/auto/`) to
 * the `result` links that `slime realize` made, which are roots while they exist.
 *
 * Layout of `.slime/`:
 *   db/<hash>.json       PathInfo of each valid path (the narinfo fields)
 *   locks/<hash>.lock    per-derivation build locks; `store.lock` guards gc
 *   tmp/                 build outputs before their atomic rename into the store
 *   durations/<name>     durations of earlier builds of a derivation name, for ETAs
 *   logs/<hash>.log      build logs, kept after the build
 *   cacache/             blobs by integrity (downloaded sources)
 *   tool-cache.json      host tool identities by inode/size/mtime
 */
import fs from 'node:fs';
import path from 'node:path';
import ssri from 'ssri';
import { SlimeError } from '../errors.js';
import { hashPartOf } from './paths.js';

/** What the store knows of a valid path: the fields a narinfo carries. */
export interface PathInfo {
  path: string;
  /** SRI form, e.g. `sha256-…`: the hash of the path's NAR serialisation. */
  narHash: string;
  narSize: number;
  /** Store paths this one mentions (found by scanning, as Nix does), itself included if it does. */
  references: string[];
  /** The `.drv` that produced it. */
  deriver?: string;
  /** Content address of fixed-output and source paths: `fixed:r:sha256:<base32>`, `text:sha256:<base32>`. */
  ca?: string;
  registrationTime: number;
  buildDurationMs?: number;
  /** `keyname:base64sig` over the narinfo fingerprint, for a binary cache. */
  signatures: string[];
}

export class Store {
  readonly dir: string;
  readonly stateDir: string;
  /**
   * Metadata read or registered by this process. A valid path's metadata never
   * changes; only gc and repair invalidate it, under the exclusive store lock that
   * realizes exclude, and `invalidate` forgets it here too.
   */
  private readonly infos = new Map<string, PathInfo>();

  constructor(dir: string) {
    if (!path.isAbsolute(dir)) throw new SlimeError(`store directory ${dir} must be an absolute path`);
    this.dir = dir.replace(/\/+$/, '');
    this.stateDir = path.join(this.dir, '.slime');
  }

  /** Creates the directories; cheap when they exist. */
  init(): void {
    for (const d of ['db', 'locks', 'tmp', 'durations', 'logs']) {
      fs.mkdirSync(path.join(this.stateDir, d), { recursive: true });
    }
  }

  get rootsDir(): string {
    return path.join(this.dir, '.roots');
  }

  get cacheDir(): string {
    return path.join(this.stateDir, 'cacache');
  }

  get toolCacheFile(): string {
    return path.join(this.stateDir, 'tool-cache.json');
  }

  lockFile(storePath: string): string {
    return path.join(this.stateDir, 'locks', `${hashPartOf(storePath)}.lock`);
  }

  get globalLockFile(): string {
    return path.join(this.stateDir, 'locks', 'store.lock');
  }

  logFile(drvPath: string): string {
    return path.join(this.stateDir, 'logs', `${path.basename(drvPath)}.log`);
  }

  /** Where an output is assembled before it enters the store: same length as the final path, so hash rewriting keeps every offset. */
  tempPathFor(finalPath: string): string {
    const base = path.basename(finalPath);
    const hash = base.slice(0, 32);
    const staging = `.slime/tmp/`;
    const tempHash = hash.slice(0, 32 - staging.length);
    return path.join(this.dir, staging + tempHash + base.slice(32));
  }

  /** The bytes that stand for the final hash part inside a temp path (see tempPathFor). */
  tempToken(finalPath: string): string {
    const temp = this.tempPathFor(finalPath);
    return temp.slice(this.dir.length + 1, this.dir.length + 1 + 32);
  }

  private infoFile(storePath: string): string {
    return path.join(this.stateDir, 'db', `${hashPartOf(storePath)}.json`);
  }

  isValid(storePath: string): boolean {
    return fs.existsSync(this.infoFile(storePath));
  }

  /**
   * Which of `storePaths` are valid, in one pass over the metadata rather than one
   * lookup per path: what a no-op realize of a large graph asks.
   */
  validSet(storePaths: Iterable<string>): Set<string> {
    let registered: Set<string>;
    try {
      registered = new Set(fs.readdirSync(path.join(this.stateDir, 'db')));
    } catch {
      return new Set();
    }
    const valid = new Set<string>();
    const prefix = this.dir.length + 1;
    for (const p of storePaths) {
      // A path in this store: the 32 characters after the directory are its hash part.
      const key = p.length > prefix + 33 && p.startsWith(this.dir) && p[prefix - 1] === '/' ? p.slice(prefix, prefix + 32) : hashPartOf(p);
      if (registered.has(`${key}.json`)) valid.add(p);
    }
    return valid;
  }

  queryInfo(storePath: string): PathInfo | undefined {
    const known = this.infos.get(storePath);
    if (known) return known;
    try {
      const info = JSON.parse(fs.readFileSync(this.infoFile(storePath), 'utf8')) as PathInfo;
      this.infos.set(storePath, info);
      return info;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SlimeError(`store metadata for ${storePath} is unreadable (${(e as Error).message}); run \`slime verify --repair\``);
    }
  }

  /** Makes a complete, read-only path valid. The rename makes the registration atomic. */
  register(info: PathInfo): void {
    if (!fs.existsSync(info.path)) {
      throw new SlimeError(`internal error: registering ${info.path}, which does not exist`);
    }
    if (!ssri.parse(info.narHash)) throw new SlimeError(`internal error: bad narHash ${info.narHash}`);
    writeFileAtomic(this.infoFile(info.path), JSON.stringify(info, null, 1));
    this.infos.set(info.path, info);
  }

  /** Forgets a path; the caller deletes its files. */
  invalidate(storePath: string): void {
    this.infos.delete(storePath);
    fs.rmSync(this.infoFile(storePath), { force: true });
  }

  validPaths(): PathInfo[] {
    const dbDir = path.join(this.stateDir, 'db');
    if (!fs.existsSync(dbDir)) return [];
    return fs
      .readdirSync(dbDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dbDir, f), 'utf8')) as PathInfo);
  }

  /** Every path reachable from `roots` through references. */
  closure(roots: Iterable<string>): Set<string> {
    const seen = new Set<string>();
    const stack = [...roots];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const r of this.queryInfo(p)?.references ?? []) stack.push(r);
    }
    return seen;
  }

  recordDuration(name: string, ms: number): void {
    const file = path.join(this.stateDir, 'durations', name);
    const history = this.durations(name);
    history.push(Math.round(ms));
    writeFileAtomic(file, JSON.stringify(history.slice(-10)));
  }

  durations(name: string): number[] {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.stateDir, 'durations', name), 'utf8'));
    } catch {
      return [];
    }
  }

  /** The median duration of earlier builds of a derivation of this name, if any. */
  expectedDuration(name: string): number | undefined {
    const d = [...this.durations(name)].sort((a, b) => a - b);
    return d.length ? d[Math.floor(d.length / 2)] : undefined;
  }
}

export function writeFileAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Deletes a tree even when it was made read-only as store paths are. */
export function removeTree(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    makeWritable(p);
    fs.rmSync(p, { recursive: true, force: true });
  }
}

function makeWritable(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.mode | 0o200);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) makeWritable(path.join(p, e));
}

/** Resolves the store directory: `--store`, then SLIME_STORE, then `<project>/store`. */
export function storeDirFrom(option: string | undefined, env: NodeJS.ProcessEnv, projectRoot: string): string {
  const dir = option ?? env.SLIME_STORE ?? path.join(projectRoot, 'store');
  return path.resolve(projectRoot, dir);
}
