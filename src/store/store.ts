/**
 * The store: `<dir>/<hash>-<name>` paths plus slime's state in `<dir>/.slime/`.
 *
 * The one invariant: a store path is valid iff its metadata is registered in the
 * store database (src/store/db.ts), which happens only after the path is complete,
 * canonical and read-only (src/store/add-path.ts), in one transaction with its
 * references. Everything else in the store directory — a path whose registration
 * never happened, anything in `.slime/tmp/` — is garbage that `slime gc` deletes.
 * Only this module and add-path.ts change what is valid.
 *
 * `<dir>/.roots/` holds gc roots (src/store/roots.ts).
 *
 * Layout of `.slime/`:
 *   db.sqlite (+ -wal, -shm)  the metadata of each valid path, build durations, check records
 *   checks/                    diffoscope's reports of checks (src/store/checks.ts)
 *   locks/<hash>.lock          per-derivation build locks
 *   locks/<hash>.pgid          process group of the builder running under a build lock
 *   locks/store.lock           the gc lock: gc and repair hold it exclusively, adders shared
 *   tmp/                       paths being assembled before their atomic rename into the store
 *   logs/<hash>.log            build logs, kept after the build
 *   cacache/                   blobs by integrity (downloaded sources)
 *   tool-cache.json            host tool identities by inode/size/mtime
 *   validity/<key>             answers of the database kept until it is next written
 *                              (src/store/validity-memo.ts)
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SlimeError } from '../errors.js';
import { hashPartOf } from './paths.js';
import { StoreDb, type DamagedEntry, type PathInfo } from './db.js';
import { ValidityMemos } from './validity-memo.js';

export type { DamagedEntry, PathInfo } from './db.js';

export interface GcState {
  generation: number;
  collecting: boolean;
}

export class Store {
  readonly dir: string;
  readonly stateDir: string;
  private database?: StoreDb;
  private readonly memos: ValidityMemos;
  /** The database's stamp and gc generation when a validity memo answered, while nothing has written it since. */
  private recalled?: { stamp: string; generation: number };
  /** JSON metadata files of an older store that could not be imported (named, with why). */
  migrationProblems: string[] = [];

  constructor(dir: string) {
    if (!path.isAbsolute(dir)) throw new SlimeError(`store directory ${dir} must be an absolute path`);
    this.dir = dir.replace(/\/+$/, '');
    this.stateDir = path.join(this.dir, '.slime');
    this.memos = new ValidityMemos(this.stateDir, path.join(this.stateDir, 'db.sqlite'));
  }

  /** Creates the directories; cheap when they exist. */
  init(): void {
    for (const d of ['locks', 'tmp', 'logs']) {
      fs.mkdirSync(path.join(this.stateDir, d), { recursive: true });
    }
  }

  /** The metadata database, opened (and an older JSON store imported) on first use. */
  get db(): StoreDb {
    if (!this.database) {
      fs.mkdirSync(this.stateDir, { recursive: true });
      this.database = new StoreDb(path.join(this.stateDir, 'db.sqlite'));
      this.migrationProblems = [...this.database.importJson(this.stateDir), ...this.database.importCheckJson(this.stateDir)];
    }
    return this.database;
  }

  close(): void {
    this.database?.close();
    this.database = undefined;
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

  /** The build lock of a derivation (or of any path: one at a time may make it). */
  lockFile(storePath: string): string {
    return path.join(this.stateDir, 'locks', `${hashPartOf(storePath)}.lock`);
  }

  /** The gc lock: exclusive for gc and repair, shared by whoever adds paths. */
  get globalLockFile(): string {
    return path.join(this.stateDir, 'locks', 'store.lock');
  }

  logFile(drvPath: string): string {
    return path.join(this.stateDir, 'logs', `${path.basename(drvPath)}.log`);
  }

  get tempDir(): string {
    return path.join(this.stateDir, 'tmp');
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

  /** A temporary no other process uses: for paths that do not refer to themselves (.drv files, sources, added files). */
  uniqueTempPath(finalPath: string): string {
    fs.mkdirSync(this.tempDir, { recursive: true });
    return path.join(this.tempDir, `${process.pid}-${randomBytes(6).toString('hex')}-${path.basename(finalPath)}`);
  }

  isValid(storePath: string): boolean {
    return this.db.isValid(storePath);
  }

  allValid(storePaths: Iterable<string>): boolean {
    for (const p of storePaths) if (!this.isValid(p)) return false;
    return true;
  }

  /**
   * Which of `validPaths` (paths the caller has just found or made valid) are absent
   * from the store directory: removed by hand, not by gc. Validity stays the database's
   * word, as in Nix; this is for the paths a command hands to its user (./result), which
   * would otherwise point at nothing. `slime verify --repair` restores them.
   */
  missingFromDirectory(validPaths: Iterable<string>): string[] {
    return [...validPaths].filter((p) => fs.lstatSync(p, { throwIfNoEntry: false }) === undefined);
  }

  /** Which of `storePaths` are valid. */
  validSet(storePaths: Iterable<string>): Set<string> {
    // With the database open no memo is asked (validSnapshot), nor is the gc state wanted.
    if (this.database !== undefined) return this.database.validAmong([...storePaths]);
    return this.validSnapshot(storePaths).valid;
  }

  /**
   * Which of `storePaths` are valid, and the gc state read just before: what a realize
   * asks of its whole graph at once. When every path is valid the answer is kept as a
   * memo (src/store/validity-memo.ts), and the same question asked again before anyone
   * writes the database is answered from it without opening the database.
   */
  validSnapshot(storePaths: Iterable<string>): { valid: Set<string>; gc: GcState } {
    const question = [...storePaths];
    // Only before this process opened the database: its own log would hide another's.
    const before = this.database === undefined ? this.memos.quietStamp() : undefined;
    if (before !== undefined) {
      const recalled = this.memos.recall(question, before);
      if (recalled !== undefined) {
        this.recalled = recalled;
        return { valid: new Set(question), gc: { generation: recalled.generation, collecting: false } };
      }
    }
    const gc = this.db.gcState();
    const valid = this.db.validAmong(question);
    // A path may be asked twice (a source several derivations share).
    const allValid = valid.size === question.length || question.every((p) => valid.has(p));
    if (before !== undefined && allValid && !gc.collecting) this.memos.remember(question, before, gc.generation);
    return { valid, gc };
  }

  /** The gc generation, and whether a gc is running (src/store/gc.ts). */
  gcState(): GcState {
    const recalled = this.recalled;
    if (recalled !== undefined && this.database === undefined && this.memos.quietStamp() === recalled.stamp) {
      return { generation: recalled.generation, collecting: false };
    }
    return this.db.gcState();
  }

  queryInfo(storePath: string): PathInfo | undefined {
    return this.db.queryInfo(storePath);
  }

  /** Makes a complete, read-only path valid; only add-path.ts calls this, after the path is in place. */
  register(info: PathInfo): void {
    if (!fs.existsSync(info.path)) {
      throw new SlimeError(`internal error: registering ${info.path}, which does not exist`);
    }
    this.db.register(info);
  }

  /**
   * Makes paths invalid, then deletes them. The caller holds the gc lock exclusively or
   * knows the paths are its own. Refuses if a valid path outside `paths` refers to one.
   */
  forget(storePaths: string[]): void {
    this.db.forget(storePaths);
    for (const p of storePaths) removeTree(p);
  }

  /** The valid paths that refer to `storePath` (not itself). */
  referrers(storePath: string): string[] {
    return this.db.referrers(storePath);
  }

  validPaths(): PathInfo[] {
    return this.db.entries().valid;
  }

  /** Every registration: the well-formed ones and the damaged ones. */
  entries(): { valid: PathInfo[]; damaged: DamagedEntry[] } {
    return this.db.entries();
  }

  /** Every path reachable from `roots` through references. */
  closure(roots: Iterable<string>): Set<string> {
    const start = [...roots];
    // The roots themselves belong to it, registered or not.
    return new Set([...start, ...this.db.closure(start)]);
  }

  recordDuration(name: string, ms: number): void {
    this.db.recordDuration(name, ms);
  }

  durations(name: string): number[] {
    return this.db.durations(name);
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

/** Whether `p` exists, a dangling symlink included. */
export function existsNoFollow(p: string): boolean {
  // Asked mostly of what is not there (an output's final path before it is moved in): without an exception.
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** The apparent size of a file or tree in bytes (each entry's st_size, directories' own included); 0 if it is gone. */
export function diskUsage(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, e) => sum + diskUsage(`${p}/${e}`), st.size);
}

/** Deletes a tree even when it was made read-only as store paths are. */
export function removeTree(p: string): void {
  // Most calls are for what is not there (a build's temporaries before it starts): asked
  // without an exception, which fs.rmSync's own lstat costs.
  if (fs.lstatSync(p, { throwIfNoEntry: false }) === undefined) return;
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

/**
 * Resolves the store directory: `--store`, then SLIME_STORE, then `<project>/store`.
 * An empty SLIME_STORE counts as unset (as a shell's `SLIME_STORE= cmd` means), not as
 * the current directory.
 */
export function storeDirFrom(option: string | undefined, env: NodeJS.ProcessEnv, projectRoot: string): string {
  const dir = option ?? (env.SLIME_STORE || undefined) ?? path.join(projectRoot, 'store');
  return path.resolve(projectRoot, dir);
}
