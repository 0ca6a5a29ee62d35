/**
 * The store's metadata: which paths are valid, and what is known of each, in one SQLite
 * database `<store>/.slime/db.sqlite` (WAL journal, busy timeout), modelled on Nix's
 * `/nix/var/nix/db/db.sqlite`.
 *
 * Schema (user_version 3; an older database gains what it lacks on open: version 1 the
 * Check* tables, version 2 the index WellFormedPaths):
 *   ValidPaths(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,
 *              hash TEXT NOT NULL,             -- NAR hash, SRI form `sha256-<base64>`
 *              registrationTime INTEGER NOT NULL, deriver TEXT, narSize INTEGER,
 *              ca TEXT, sigs TEXT,              -- signatures, space-separated
 *              buildDurationMs INTEGER)
 *   Refs(referrer -> ValidPaths.id ON DELETE CASCADE,
 *        reference -> ValidPaths.id, checked at commit (DEFERRABLE INITIALLY DEFERRED),
 *        PRIMARY KEY (referrer, reference))  -- a path's self-reference is a row too
 *   WellFormedPaths: index on ValidPaths(path) WHERE the row is well-formed (VALID_ROW)
 *   Durations(id INTEGER PRIMARY KEY, name TEXT NOT NULL, ms INTEGER NOT NULL)
 *   GcState(id = 1, generation INTEGER, pid INTEGER)  -- bumped by every gc / repair
 *   Checks(id INTEGER PRIMARY KEY, drvPath TEXT NOT NULL, name TEXT NOT NULL,
 *          time INTEGER NOT NULL,             -- Unix ms when the check ended
 *          rounds INTEGER NOT NULL, verdict TEXT NOT NULL,   -- CheckVerdict (store/checks.ts)
 *          roundMs TEXT NOT NULL,             -- each round's wall time, ms, space-separated
 *          nondeterministic TEXT, against TEXT, error TEXT,
 *          diffoscope TEXT)                   -- JSON [{text, html}] of report files
 *          -- one row per `slime check` of a derivation, the last 20 per drvPath kept
 *   CheckOutputs(check -> Checks.id ON DELETE CASCADE, output TEXT NOT NULL,
 *          path TEXT NOT NULL, narHash TEXT NOT NULL,  -- the registered NAR hash (SRI)
 *          rebuilt TEXT NOT NULL,             -- each round's NAR hash, space-separated
 *          differencesCut INTEGER, keptAt TEXT,  -- differences beyond the kept ones; <out>.check
 *          PRIMARY KEY (check, output))
 *   CheckFiles(check, output -> CheckOutputs ON DELETE CASCADE, ord INTEGER NOT NULL,
 *          file TEXT NOT NULL, kind TEXT NOT NULL,    -- the differing file and how it differs:
 *                                             -- content, only-in-stored|rebuilt, type, executable, symlink
 *          format TEXT,                       -- for content: elf, ar, pyc, tar, gzip, text, binary
 *          detail TEXT NOT NULL,              -- the whole FileDifference (run/differences.ts) as JSON
 *          PRIMARY KEY (check, output, ord))
 *
 * The invariants the database keeps for the store:
 *   - a path is valid iff its ValidPaths row exists and is well-formed (a row whose
 *     hash or size is garbage is "damaged": reported by name, treated as invalid);
 *   - a path and its references are registered in one transaction, and every
 *     reference is itself valid (the foreign key) or the path itself: the closure of a
 *     valid path is valid;
 *   - a path that valid paths still refer to cannot be forgotten alone.
 *
 * Why SQLite rather than one JSON file per path (slime's first design): a transaction
 * covers a path, its references and its referrers at once, a reader never sees half a
 * registration, and nothing is left as `db/*.tmp` after a crash or a full disk.
 * Speed is not the reason: both are fast enough. Measured with `npm run build && node
 * dist/bench/store-db.js 1000` (1000 paths, 4 references each; 2 shared cores at a
 * load average of 35-40, so the spread is wide; 4 runs): registering 1000 paths took
 * 0.52-1.09 s in SQLite (one IMMEDIATE transaction per path, WAL, synchronous=NORMAL)
 * vs 0.44-2.82 s as JSON files (write + rename each); 1000 validity checks 11-72 ms vs
 * 4-100 ms; 1000 PathInfo reads 54-91 ms vs 55-172 ms; reopening an existing database
 * 1.0-2.3 ms. A store made by an older slime (`.slime/db/<hash>.json`) is imported on
 * open and the JSON files are removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SlimeError } from '../errors.js';
import type { CheckRecord, OutputCheck } from './checks.js';

/**
 * rowProblem's tests as an SQL condition on a ValidPaths row (`prefix`: the table's alias
 * and a dot, or nothing), for queries that return many paths: a hash matching SRI_SHA256
 * (GLOB: case-sensitive, one character class per position), a safe non-negative integer
 * size, a numeric registration time.
 */
const wellFormed = (prefix: string): string => `typeof(${prefix}hash) = 'text' AND ${prefix}hash GLOB 'sha256-${'[A-Za-z0-9+/]'.repeat(43)}='
  AND typeof(${prefix}narSize) = 'integer' AND ${prefix}narSize BETWEEN 0 AND ${Number.MAX_SAFE_INTEGER}
  AND typeof(${prefix}registrationTime) IN ('integer', 'real')`;
const VALID_ROW = wellFormed('v.');

const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ValidPaths (
  id               INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  path             TEXT UNIQUE NOT NULL,
  hash             TEXT NOT NULL,
  registrationTime INTEGER NOT NULL,
  deriver          TEXT,
  narSize          INTEGER,
  ca               TEXT,
  sigs             TEXT,
  buildDurationMs  INTEGER
);
CREATE TABLE IF NOT EXISTS Refs (
  referrer  INTEGER NOT NULL,
  reference INTEGER NOT NULL,
  PRIMARY KEY (referrer, reference),
  FOREIGN KEY (referrer) REFERENCES ValidPaths(id) ON DELETE CASCADE,
  FOREIGN KEY (reference) REFERENCES ValidPaths(id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX IF NOT EXISTS IndexReferrer ON Refs(referrer);
CREATE INDEX IF NOT EXISTS IndexReference ON Refs(reference);
-- The well-formed rows' paths (rowProblem's tests, evaluated when a row is written):
-- validAmong reads validity from it without testing each row's form again.
CREATE INDEX IF NOT EXISTS WellFormedPaths ON ValidPaths(path) WHERE ${wellFormed('')};
CREATE TABLE IF NOT EXISTS Durations (
  id   INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  name TEXT NOT NULL,
  ms   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS IndexDurationName ON Durations(name);
CREATE TABLE IF NOT EXISTS GcState (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  pid        INTEGER
);
INSERT OR IGNORE INTO GcState (id, generation, pid) VALUES (1, 0, NULL);
CREATE TABLE IF NOT EXISTS Checks (
  id               INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  drvPath          TEXT NOT NULL,
  name             TEXT NOT NULL,
  time             INTEGER NOT NULL,
  rounds           INTEGER NOT NULL,
  verdict          TEXT NOT NULL,
  roundMs          TEXT NOT NULL,
  nondeterministic TEXT,
  against          TEXT,
  error            TEXT,
  diffoscope       TEXT
);
CREATE INDEX IF NOT EXISTS IndexCheckDrv ON Checks(drvPath);
CREATE TABLE IF NOT EXISTS CheckOutputs (
  "check"        INTEGER NOT NULL,
  output         TEXT NOT NULL,
  path           TEXT NOT NULL,
  narHash        TEXT NOT NULL,
  rebuilt        TEXT NOT NULL,
  differencesCut INTEGER,
  keptAt         TEXT,
  PRIMARY KEY ("check", output),
  FOREIGN KEY ("check") REFERENCES Checks(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS CheckFiles (
  "check" INTEGER NOT NULL,
  output  TEXT NOT NULL,
  ord     INTEGER NOT NULL,
  file    TEXT NOT NULL,
  kind    TEXT NOT NULL,
  format  TEXT,
  detail  TEXT NOT NULL,
  PRIMARY KEY ("check", output, ord),
  FOREIGN KEY ("check", output) REFERENCES CheckOutputs("check", output) ON DELETE CASCADE
);
`;

/** How many checks of one derivation are kept (the oldest go first). */
export const MAX_CHECKS = 20;

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

/** A registered row that cannot be read as a PathInfo: invalid until repaired. */
export interface DamagedEntry {
  path: string;
  problem: string;
  deriver?: string;
}

interface Row {
  id: number;
  path: string;
  hash: string | null;
  registrationTime: number | null;
  deriver: string | null;
  narSize: number | null;
  ca: string | null;
  sigs: string | null;
  buildDurationMs: number | null;
}

interface CheckRow {
  id: number;
  drvPath: string;
  name: string;
  time: number;
  rounds: number;
  verdict: string;
  roundMs: string;
  nondeterministic: string | null;
  against: string | null;
  error: string | null;
  diffoscope: string | null;
}

interface CheckOutputRow {
  output: string;
  path: string;
  narHash: string;
  rebuilt: string;
  differencesCut: number | null;
  keptAt: string | null;
}

const SRI_SHA256 = /^sha256-[A-Za-z0-9+/]{43}=$/;

/** Why a row is not a usable registration, or undefined if it is. */
function rowProblem(row: Row): string | undefined {
  if (typeof row.hash !== 'string' || !SRI_SHA256.test(row.hash)) return `its NAR hash ${JSON.stringify(row.hash)} is not a sha256 hash`;
  if (typeof row.narSize !== 'number' || !Number.isSafeInteger(row.narSize) || row.narSize < 0) return `its NAR size ${JSON.stringify(row.narSize)} is not a size`;
  if (typeof row.registrationTime !== 'number') return `its registration time ${JSON.stringify(row.registrationTime)} is not a time`;
  return undefined;
}

let addon: string | null | undefined;

/**
 * Where better-sqlite3's build puts its compiled addon: without it,
 * better-sqlite3 asks the `bindings` package, which searches a dozen places from a stack
 * trace on every process start. null (bindings searches) if it is elsewhere.
 *
 * Looked for in each `node_modules` from this module's directory up, as Node's resolution
 * finds the package, but without it: loading node:module for createRequire and
 * `require.resolve` of the file (reading package.json files on the way) took 1.1-1.4 ms
 * of every command that opens a store, these few `access` calls 0.16-0.19 ms.
 */
function nativeAddon(): string | null {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    if (fs.existsSync(file)) return file;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Opens (and on first use creates) the database. Processes that open a new store at
 * the same moment race for switching it to WAL and creating the schema; SQLite reports
 * some of those races as SQLITE_BUSY at once, without waiting in its busy handler (as it
 * does when a WAL file is being recovered), so the whole opening is retried, for as
 * long as the busy timeout would have waited.
 */
function openWithRetry(file: string): BetterSqlite3.Database {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    let db: BetterSqlite3.Database | undefined;
    try {
      db = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS, ...(addon !== null ? { nativeBinding: addon } : {}) });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Every statement of SCHEMA is idempotent: an older database gains the new tables;
      // a newer one (another slime's) is left at its version.
      if ((db.pragma('user_version', { simple: true }) as number) < SCHEMA_VERSION) {
        const d = db;
        d.transaction(() => {
          d.exec(SCHEMA);
          d.pragma(`user_version = ${SCHEMA_VERSION}`);
        }).immediate();
      }
      closeAtExit(db);
      return db;
    } catch (e) {
      db?.close();
      const busy = /^SQLITE_BUSY/.test(String((e as { code?: unknown }).code ?? ''));
      if (!busy || Date.now() > deadline) throw dbError(file, 'open', e);
      sleepSync(Math.min(200, 10 * 2 ** Math.min(attempt, 4)) + Math.random() * 10);
    }
  }
}

const BUSY_TIMEOUT_MS = 60_000;

const openDatabases = new Set<BetterSqlite3.Database>();
let exitHook = false;

/**
 * Closes the database when the process exits, however it exits: slime's CLI ends with
 * process.exit (src/cli/main.ts), which skips the teardown in which better-sqlite3 would
 * close it. Closed, the last connection
 * checkpoints the WAL and removes the -wal and -shm files, so a run that only read (a
 * no-op realize) leaves the store as it found it.
 */
function closeAtExit(db: BetterSqlite3.Database): void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const open of openDatabases) if (open.open) open.close();
      openDatabases.clear();
    });
  }
  openDatabases.add(db);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** An object whose properties are made by `makers`, each on its first read and then kept. */
function lazily<T extends Record<string, () => unknown>>(makers: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(out, key, {
      configurable: true,
      enumerable: true,
      get: () => {
        const value = makers[key]!() as ReturnType<T[typeof key]>;
        Object.defineProperty(out, key, { value, enumerable: true });
        return value;
      },
    });
  }
  return out;
}

export class StoreDb {
  private readonly db: BetterSqlite3.Database;
  private readonly stmt: ReturnType<StoreDb['prepare']>;

  constructor(readonly file: string) {
    addon ??= nativeAddon();
    this.db = openWithRetry(file);
    this.stmt = this.prepare();
  }

  /** The statements, each prepared when first used: a command uses a few of them, and preparing all took ~5 ms of every start. */
  private prepare() {
    const d = this.db;
    return lazily({
      row: () => d.prepare<[string], Row>('SELECT * FROM ValidPaths WHERE path = ?'),
      // The paths only, of the well-formed rows only: rowProblem's tests, in SQL (VALID_ROW).
      // Through the partial index WellFormedPaths, whose rows passed those tests when they
      // were written (SQLite keeps it so through any UPDATE), and the query's copy of the
      // tests is then not evaluated: the 2,000 paths of the 1000-derivation graph's no-op
      // took 10.3-10.5 ms testing each row (the GLOB), 3.8-5.1 ms through the index. SQLite's
      // planner prefers the path's UNIQUE index, hence INDEXED BY; without the index (dropped
      // by hand) the tests run on each row as before.
      validAmong: () => {
        const query = (indexed: string) =>
          d.prepare<[string], string>(`SELECT v.path FROM json_each(?) j JOIN ValidPaths v ${indexed}ON v.path = j.value WHERE ${VALID_ROW}`).pluck();
        try {
          return query('INDEXED BY WellFormedPaths ');
        } catch {
          return query('');
        }
      },
      // closure()'s: the roots' row ids, and the references of row ids (which it turns into paths through pathById).
      idsOfPaths: () => d.prepare<[string], number>('SELECT v.id FROM json_each(?) j JOIN ValidPaths v ON v.path = j.value').pluck(),
      refsOfIds: () => d.prepare<[string], { referrer: number; reference: number }>(
        'SELECT r.referrer, r.reference FROM json_each(?) j JOIN Refs r ON r.referrer = j.value',
      ),
      dataVersion: () => d.prepare<[], number>('PRAGMA data_version').pluck(),
      pathsOfIds: () => d.prepare<[string], { id: number; path: string }>('SELECT v.id, v.path FROM json_each(?) j JOIN ValidPaths v ON v.id = j.value'),
      id: () => d.prepare<[string], { id: number }>('SELECT id FROM ValidPaths WHERE path = ?'),
      refsByPath: () => d.prepare<[string], { path: string }>(
        'SELECT v.path FROM Refs r JOIN ValidPaths v ON v.id = r.reference JOIN ValidPaths s ON s.id = r.referrer WHERE s.path = ?',
      ),
      refs: () => d.prepare<[number], { path: string }>(
        'SELECT v.path FROM Refs r JOIN ValidPaths v ON v.id = r.reference WHERE r.referrer = ? ORDER BY v.path',
      ),
      referrers: () => d.prepare<[string], { path: string }>(
        'SELECT v.path FROM Refs r JOIN ValidPaths v ON v.id = r.referrer JOIN ValidPaths t ON t.id = r.reference WHERE t.path = ? AND v.path != t.path',
      ),
      all: () => d.prepare<[], Row>('SELECT * FROM ValidPaths ORDER BY path'),
      upsert: () => d.prepare(
        `INSERT INTO ValidPaths (path, hash, registrationTime, deriver, narSize, ca, sigs, buildDurationMs)
         VALUES (@path, @hash, @registrationTime, @deriver, @narSize, @ca, @sigs, @buildDurationMs)
         ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, registrationTime = excluded.registrationTime,
           deriver = excluded.deriver, narSize = excluded.narSize, ca = excluded.ca, sigs = excluded.sigs,
           buildDurationMs = excluded.buildDurationMs`,
      ),
      clearRefs: () => d.prepare<[number]>('DELETE FROM Refs WHERE referrer = ?'),
      addRef: () => d.prepare<[number, number]>('INSERT OR IGNORE INTO Refs (referrer, reference) VALUES (?, ?)'),
      forget: () => d.prepare<[string]>('DELETE FROM ValidPaths WHERE path = ?'),
      durations: () => d.prepare<[string], { ms: number }>('SELECT ms FROM Durations WHERE name = ? ORDER BY id DESC LIMIT 10'),
      addDuration: () => d.prepare<[string, number]>('INSERT INTO Durations (name, ms) VALUES (?, ?)'),
      trimDurations: () => d.prepare<[string, string]>(
        'DELETE FROM Durations WHERE name = ? AND id NOT IN (SELECT id FROM Durations WHERE name = ? ORDER BY id DESC LIMIT 10)',
      ),
      gcState: () => d.prepare<[], { generation: number; pid: number | null }>('SELECT generation, pid FROM GcState WHERE id = 1'),
      gcBegin: () => d.prepare<[number]>('UPDATE GcState SET generation = generation + 1, pid = ? WHERE id = 1'),
      gcEnd: () => d.prepare<[number]>('UPDATE GcState SET pid = NULL WHERE id = 1 AND pid = ?'),
      addCheck: () => d.prepare(
        `INSERT INTO Checks (drvPath, name, time, rounds, verdict, roundMs, nondeterministic, against, error, diffoscope)
         VALUES (@drvPath, @name, @time, @rounds, @verdict, @roundMs, @nondeterministic, @against, @error, @diffoscope)`,
      ),
      addCheckOutput: () => d.prepare(
        `INSERT INTO CheckOutputs ("check", output, path, narHash, rebuilt, differencesCut, keptAt)
         VALUES (@check, @output, @path, @narHash, @rebuilt, @differencesCut, @keptAt)`,
      ),
      addCheckFile: () => d.prepare(
        'INSERT INTO CheckFiles ("check", output, ord, file, kind, format, detail) VALUES (@check, @output, @ord, @file, @kind, @format, @detail)',
      ),
      trimChecks: () => d.prepare<[string, string, number]>(
        'DELETE FROM Checks WHERE drvPath = ? AND id NOT IN (SELECT id FROM Checks WHERE drvPath = ? ORDER BY id DESC LIMIT ?)',
      ),
      latestChecks: () =>
        d.prepare<[string], { drvPath: string; verdict: string; rounds: number; time: number }>(
          `SELECT c.drvPath, c.verdict, c.rounds, c.time FROM json_each(?) j
           JOIN Checks c ON c.id = (SELECT id FROM Checks WHERE drvPath = j.value ORDER BY id DESC LIMIT 1)`,
        ),
      checks: () => d.prepare<[string, number], CheckRow>('SELECT * FROM (SELECT * FROM Checks WHERE drvPath = ? ORDER BY id DESC LIMIT ?) ORDER BY id'),
      checkOutputs: () => d.prepare<[number], CheckOutputRow>('SELECT * FROM CheckOutputs WHERE "check" = ? ORDER BY output'),
      checkFiles: () => d.prepare<[number, string], { detail: string }>('SELECT detail FROM CheckFiles WHERE "check" = ? AND output = ? ORDER BY ord'),
    });
  }

  close(): void {
    openDatabases.delete(this.db);
    this.db.close();
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SlimeError) throw e;
      throw dbError(this.file, what, e);
    }
  }

  isValid(p: string): boolean {
    const row = this.guard('read', () => this.stmt.row.get(p));
    return row !== undefined && rowProblem(row) === undefined;
  }

  /** Which of `paths` are valid, in one query: a realize asks this of its whole graph. */
  validAmong(paths: string[]): Set<string> {
    return new Set(this.guard('read', () => this.stmt.validAmong.all(JSON.stringify(paths))));
  }

  /** Whether `p` has a row at all, well-formed or not. */
  isRegistered(p: string): boolean {
    return this.guard('read', () => this.stmt.id.get(p)) !== undefined;
  }

  queryInfo(p: string): PathInfo | undefined {
    return this.guard('read', () => {
      const row = this.stmt.row.get(p);
      return row && rowProblem(row) === undefined ? this.toInfo(row) : undefined;
    });
  }

  private toInfo(row: Row): PathInfo {
    return {
      path: row.path,
      narHash: row.hash!,
      narSize: row.narSize!,
      references: this.stmt.refs.all(row.id).map((r) => r.path),
      ...(row.deriver ? { deriver: row.deriver } : {}),
      ...(row.ca ? { ca: row.ca } : {}),
      registrationTime: row.registrationTime!,
      ...(row.buildDurationMs !== null ? { buildDurationMs: row.buildDurationMs } : {}),
      signatures: row.sigs ? row.sigs.split(' ').filter(Boolean) : [],
    };
  }

  /** Every well-formed registration, and every damaged one apart. */
  entries(): { valid: PathInfo[]; damaged: DamagedEntry[] } {
    return this.guard('read', () =>
      this.db.transaction(() => {
        const valid: PathInfo[] = [];
        const damaged: DamagedEntry[] = [];
        for (const row of this.stmt.all.all()) {
          const problem = rowProblem(row);
          if (problem === undefined) valid.push(this.toInfo(row));
          else damaged.push({ path: row.path, problem, ...(row.deriver ? { deriver: row.deriver } : {}) });
        }
        return { valid, damaged };
      })(),
    );
  }

  /** The references registered for `p`, even if its entry is damaged (gc must keep them). */
  references(p: string): string[] {
    return this.guard('read', () => this.stmt.refsByPath.all(p).map((r) => r.path));
  }

  /**
   * The path of each row id met so far. An id names one path for good: ids are
   * AUTOINCREMENT, never given to another path, even after the row is deleted; so
   * this never goes stale, and closure() asks SQLite only for the ids it has not seen.
   * Joining every id of a closure back to its path was a third of the query's time,
   * and a build asks for its inputs' closure (the 1000-derivation graph's last builds:
   * ~1000 paths each).
   */
  private readonly pathById = new Map<number, string>();

  /**
   * The references of each row id walked so far, as row ids. A row's references change
   * only when it is registered again (a repair) or forgotten, and only by a write: this
   * connection's own registrations drop their entry (a forgotten row's id is never reached
   * again: roots are looked up in ValidPaths, and a registered row's references are
   * registered), and any other connection's commit moves `PRAGMA data_version`, which
   * empties the map before the next walk. So a build, which asks for its inputs' closure,
   * reads from SQLite only the references of paths registered since the last one (the
   * 1000-derivation graph's builds: one or two, of a closure of ~500), where a recursive
   * query walked every one of them each time (~0.8 ms a build).
   */
  private readonly refsById = new Map<number, number[]>();
  private refsVersion: number | undefined;

  /**
   * The registered paths reachable from `roots` through registered references (those of
   * a damaged entry too): a build asks this of its inputs. The roots themselves are in it
   * when they are registered.
   */
  closure(roots: string[]): string[] {
    // One read transaction: every query of the walk sees the same state of the database,
    // as the one recursive query did, and the data version is read once that state is
    // fixed (by the first query), so the kept references are checked against it.
    return this.guard('read', () => this.db.transaction(() => this.walkClosure(roots))());
  }

  private walkClosure(roots: string[]): string[] {
    const reached = new Set<number>(this.stmt.idsOfPaths.all(JSON.stringify(roots)));
    const version = this.stmt.dataVersion.get();
    if (version !== this.refsVersion) {
      this.refsById.clear();
      this.refsVersion = version;
    }
    for (let frontier = [...reached]; frontier.length > 0; ) {
      const unread = frontier.filter((id) => !this.refsById.has(id));
      if (unread.length > 0) {
        // Kept only once the query has answered whole: a query that failed (a busy database)
        // must not leave rows looking as if they had no references.
        const read = new Map<number, number[]>(unread.map((id) => [id, []]));
        for (const { referrer, reference } of this.stmt.refsOfIds.all(JSON.stringify(unread))) read.get(referrer)!.push(reference);
        for (const [id, refs] of read) this.refsById.set(id, refs);
      }
      const next: number[] = [];
      for (const id of frontier) {
        for (const r of this.refsById.get(id)!) {
          if (!reached.has(r)) {
            reached.add(r);
            next.push(r);
          }
        }
      }
      frontier = next;
    }
    const paths: string[] = [];
    let unseen: number[] | undefined;
    for (const id of reached) {
      const p = this.pathById.get(id);
      if (p !== undefined) paths.push(p);
      else (unseen ??= []).push(id);
    }
    // Every id is a row's: the roots are joined to ValidPaths, and Refs' foreign keys keep each reference one.
    if (unseen) {
      for (const { id, path } of this.stmt.pathsOfIds.all(JSON.stringify(unseen))) {
        this.pathById.set(id, path);
        paths.push(path);
      }
    }
    return paths;
  }

  referrers(p: string): string[] {
    return this.guard('read', () => this.stmt.referrers.all(p).map((r) => r.path));
  }

  /**
   * Runs `fn` in a write (IMMEDIATE) transaction: no other process writes the database
   * until it returns, so it serves as a lock around a few file operations and their
   * registration (add-path.ts). A throw rolls back what `fn` registered.
   */
  exclusively<T>(fn: () => T): T {
    let running = false;
    try {
      return this.db
        .transaction(() => {
          running = true;
          const result = fn();
          running = false;
          return result;
        })
        .immediate();
    } catch (e) {
      // fn's own failure (a full disk while renaming) passes as it is; the database's is said as such.
      if (running || e instanceof SlimeError) throw e;
      throw dbError(this.file, 'register', e);
    }
  }

  /**
   * Registers `info` (or replaces the registration of the same path, as a repair does)
   * with its references, in one transaction. Each reference must be valid or the path
   * itself.
   */
  register(info: PathInfo): void {
    this.guard('register', () =>
      this.db.transaction(() => {
        for (const r of info.references) {
          if (r !== info.path && !this.isValid(r)) {
            throw new SlimeError(`cannot register ${info.path}: it refers to ${r}, which is not valid in the store; build or add that path first`);
          }
        }
        this.stmt.upsert.run({
          path: info.path,
          hash: info.narHash,
          registrationTime: info.registrationTime,
          deriver: info.deriver ?? null,
          narSize: info.narSize,
          ca: info.ca ?? null,
          sigs: info.signatures.join(' '),
          buildDurationMs: info.buildDurationMs ?? null,
        });
        const id = this.stmt.id.get(info.path)!.id;
        this.stmt.clearRefs.run(id);
        for (const r of info.references) this.stmt.addRef.run(id, this.stmt.id.get(r)!.id);
        // Read again at the next walk (a rolled-back registration's id may be given again).
        this.refsById.delete(id);
      }).immediate(),
    );
  }

  /**
   * Forgets `paths` in one transaction. Refuses (naming one) if a valid path outside
   * `paths` still refers to one of them.
   */
  forget(paths: string[]): void {
    if (paths.length === 0) return;
    const going = new Set(paths);
    this.guard('forget', () =>
      this.db.transaction(() => {
        for (const p of paths) {
          const holder = this.stmt.referrers.all(p).find((r) => !going.has(r.path));
          if (holder) throw new SlimeError(`cannot forget ${p}: the valid path ${holder.path} refers to it`);
        }
        for (const p of paths) this.stmt.forget.run(p);
      }).immediate(),
    );
  }

  recordDuration(name: string, ms: number): void {
    this.guard('record a duration in', () =>
      this.db.transaction(() => {
        this.stmt.addDuration.run(name, Math.round(ms));
        this.stmt.trimDurations.run(name, name);
      }).immediate(),
    );
  }

  /** The last (at most 10) durations of builds of `name`, oldest first. */
  durations(name: string): number[] {
    return this.guard('read', () => this.stmt.durations.all(name).map((r) => r.ms).reverse());
  }

  /**
   * Records one check of a derivation with its outputs and their differing files, in one
   * transaction, and keeps only the last MAX_CHECKS of that derivation.
   */
  recordCheck(record: CheckRecord): void {
    this.guard('record a check in', () => this.db.transaction(() => this.insertCheck(record)).immediate());
  }

  private insertCheck(record: CheckRecord): void {
    const { lastInsertRowid } = this.stmt.addCheck.run({
      drvPath: record.drvPath,
      name: record.name,
      time: Math.round(record.time),
      rounds: record.rounds,
      verdict: record.verdict,
      roundMs: record.roundMs.map((ms) => Math.round(ms)).join(' '),
      nondeterministic: record.nondeterministic ?? null,
      against: record.against ?? null,
      error: record.error ?? null,
      diffoscope: record.diffoscope ? JSON.stringify(record.diffoscope) : null,
    });
    const check = Number(lastInsertRowid);
    for (const [output, o] of Object.entries(record.outputs)) {
      this.stmt.addCheckOutput.run({
        check,
        output,
        path: o.path,
        narHash: o.narHash,
        rebuilt: o.rebuilt.join(' '),
        differencesCut: o.differencesCut ?? null,
        keptAt: o.keptAt ?? null,
      });
      (o.differences ?? []).forEach((d, ord) => {
        const diff = d as { path?: unknown; kind?: unknown; format?: unknown };
        const format = typeof diff.format === 'string' ? diff.format : null;
        this.stmt.addCheckFile.run({ check, output, ord, file: String(diff.path), kind: String(diff.kind), format, detail: JSON.stringify(d) });
      });
    }
    this.stmt.trimChecks.run(record.drvPath, record.drvPath, MAX_CHECKS);
  }

  /**
   * The verdict, rounds and end time of the latest check of each of `drvPaths` that has
   * one, in one query: what `slime targets` shows of every target's closure (lastCheck's
   * whole record, with its outputs and differing files, is more than it needs).
   */
  latestChecks(drvPaths: string[]): Map<string, Pick<CheckRecord, 'verdict' | 'rounds' | 'time'>> {
    const rows = this.guard('read', () => this.stmt.latestChecks.all(JSON.stringify(drvPaths)));
    return new Map(rows.map((r) => [r.drvPath, { verdict: r.verdict as CheckRecord['verdict'], rounds: r.rounds, time: r.time }]));
  }

  /** The recorded checks of a derivation, oldest first; `last` limits them to the latest ones. */
  checks(drvPath: string, last = MAX_CHECKS): CheckRecord[] {
    return this.guard('read', () =>
      this.db.transaction(() => this.stmt.checks.all(drvPath, last).map((row) => this.toCheck(row)))(),
    );
  }

  private toCheck(row: CheckRow): CheckRecord {
    const outputs: Record<string, OutputCheck> = {};
    for (const o of this.stmt.checkOutputs.all(row.id)) {
      const differences = this.stmt.checkFiles.all(row.id, o.output).map((f) => JSON.parse(f.detail) as unknown);
      outputs[o.output] = {
        path: o.path,
        narHash: o.narHash,
        rebuilt: o.rebuilt ? o.rebuilt.split(' ') : [],
        ...(differences.length > 0 ? { differences } : {}),
        ...(o.differencesCut !== null ? { differencesCut: o.differencesCut } : {}),
        ...(o.keptAt !== null ? { keptAt: o.keptAt } : {}),
      };
    }
    return {
      drvPath: row.drvPath,
      name: row.name,
      time: row.time,
      rounds: row.rounds,
      verdict: row.verdict as CheckRecord['verdict'],
      roundMs: row.roundMs ? row.roundMs.split(' ').map(Number) : [],
      outputs,
      ...(row.nondeterministic !== null ? { nondeterministic: row.nondeterministic } : {}),
      ...(row.against !== null ? { against: row.against } : {}),
      ...(row.error !== null ? { error: row.error } : {}),
      ...(row.diffoscope !== null ? { diffoscope: JSON.parse(row.diffoscope) as CheckRecord['diffoscope'] } : {}),
    };
  }

  /**
   * gc and repair announce themselves: a reader that saw the same generation and no
   * collector before and after its work knows that nothing was deleted meanwhile.
   */
  gcState(): { generation: number; collecting: boolean } {
    const s = this.guard('read', () => this.stmt.gcState.get())!;
    return { generation: s.generation, collecting: s.pid !== null && processAlive(s.pid) };
  }

  beginCollection(): void {
    this.guard('write', () => this.stmt.gcBegin.run(process.pid));
  }

  endCollection(): void {
    this.guard('write', () => this.stmt.gcEnd.run(process.pid));
  }

  /**
   * Imports the per-path JSON files of an older store (`.slime/db/<hash>.json`) and
   * its `durations/<name>` files, then removes them. A file that does not parse is
   * reported by name and skipped: its path is then unregistered (garbage until built
   * or added again). Returns what was skipped.
   */
  importJson(stateDir: string): string[] {
    const dbDir = path.join(stateDir, 'db');
    const durDir = path.join(stateDir, 'durations');
    if (!fs.existsSync(dbDir) && !fs.existsSync(durDir)) return [];
    const skipped: string[] = [];
    this.guard('import the JSON metadata into', () =>
      this.db.transaction(() => {
        const infos = new Map<string, PathInfo>();
        for (const f of listDir(dbDir).filter((f) => f.endsWith('.json'))) {
          const file = path.join(dbDir, f);
          try {
            const info = JSON.parse(fs.readFileSync(file, 'utf8')) as PathInfo;
            if (typeof info.path !== 'string' || !Array.isArray(info.references)) throw new Error('not a path record');
            infos.set(info.path, { ...info, signatures: Array.isArray(info.signatures) ? info.signatures : [] });
          } catch (e) {
            skipped.push(`${file}: ${(e as Error).message}`);
          }
        }
        // A path whose references are not all there is not valid either.
        for (let changed = true; changed; ) {
          changed = false;
          for (const [p, info] of infos) {
            if (info.references.some((r) => r !== p && !infos.has(r) && !this.isValid(r))) {
              infos.delete(p);
              skipped.push(`${p}: a reference of it was not registered`);
              changed = true;
            }
          }
        }
        for (const info of infos.values()) {
          if (!this.isRegistered(info.path)) {
            this.stmt.upsert.run({
              path: info.path,
              hash: info.narHash,
              registrationTime: info.registrationTime ?? 0,
              deriver: info.deriver ?? null,
              narSize: info.narSize,
              ca: info.ca ?? null,
              sigs: info.signatures.join(' '),
              buildDurationMs: info.buildDurationMs ?? null,
            });
          }
        }
        for (const info of infos.values()) {
          const id = this.stmt.id.get(info.path)!.id;
          for (const r of info.references) this.stmt.addRef.run(id, this.stmt.id.get(r)!.id);
        }
        this.refsById.clear();
        for (const name of listDir(durDir)) {
          try {
            const history = JSON.parse(fs.readFileSync(path.join(durDir, name), 'utf8')) as unknown;
            if (Array.isArray(history)) for (const ms of history) if (typeof ms === 'number') this.stmt.addDuration.run(name, Math.round(ms));
          } catch {
            // An unreadable duration history only costs an ETA.
          }
        }
      }).immediate(),
    );
    fs.rmSync(dbDir, { recursive: true, force: true });
    fs.rmSync(durDir, { recursive: true, force: true });
    return skipped;
  }

  /**
   * Imports the check records an older slime kept as `.slime/checks/<drv>.json` (a JSON
   * array of CheckRecord each) and removes those files; diffoscope's reports beside them
   * stay. A file that does not parse is reported by name and left in place.
   */
  importCheckJson(stateDir: string): string[] {
    const dir = path.join(stateDir, 'checks');
    const files = listDir(dir).filter((f) => f.endsWith('.drv.json'));
    if (files.length === 0) return [];
    const skipped: string[] = [];
    const imported: string[] = [];
    this.guard('import the JSON check records into', () =>
      this.db.transaction(() => {
        for (const f of files) {
          const file = path.join(dir, f);
          let records: CheckRecord[];
          try {
            records = JSON.parse(fs.readFileSync(file, 'utf8')) as CheckRecord[];
            if (!Array.isArray(records) || !records.every(isCheckRecord)) throw new Error('not a list of check records');
          } catch (e) {
            skipped.push(`${file}: ${(e as Error).message}`);
            continue;
          }
          for (const r of records) this.insertCheck(r);
          imported.push(file);
        }
      }).immediate(),
    );
    for (const file of imported) fs.rmSync(file, { force: true });
    return skipped;
  }
}

function isCheckRecord(r: unknown): r is CheckRecord {
  const c = r as Partial<CheckRecord> | null;
  return (
    typeof c === 'object' && c !== null && typeof c.drvPath === 'string' && typeof c.name === 'string' &&
    typeof c.time === 'number' && typeof c.rounds === 'number' && typeof c.verdict === 'string' &&
    Array.isArray(c.roundMs) && typeof c.outputs === 'object' && c.outputs !== null &&
    Object.values(c.outputs).every((o) => typeof o?.path === 'string' && typeof o.narHash === 'string' && Array.isArray(o.rebuilt))
  );
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function dbError(file: string, what: string, e: unknown): SlimeError {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message;
  if (code === 'SQLITE_FULL' || /ENOSPC/.test(msg)) {
    return new SlimeError(`cannot ${what} the store database ${file}: the disk is full; free space and run the command again`, 100);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new SlimeError(
      `the store database ${file} is damaged (${msg}); move it aside (the paths become unregistered garbage) and rebuild, or restore it from a backup`,
    );
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN') {
    return new SlimeError(`cannot ${what} the store database ${file}: ${msg}; check that the store directory is writable by you`);
  }
  return new SlimeError(`cannot ${what} the store database ${file}: ${msg}`);
}
