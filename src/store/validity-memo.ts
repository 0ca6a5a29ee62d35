/**
 * Validity memos: the store's answer to "are all of these paths valid?", kept so that the
 * same question, asked of a database nobody has written since, is answered without
 * opening it. A no-op realize asks it of its whole plan (every `.drv`, output and source)
 * and then does nothing else with the database; loading SQLite's addon, opening the
 * database (its `-wal` and `-shm` files made and, at exit, removed) and the query were
 * some 4-5 ms of the benchmark graph's ~45 ms no-op (SLIME_TRACE_PHASES' "validity").
 *
 * Layout: `<store>/.slime/validity/<key>`, `key` 16 hex digits: two 32-bit FNV-1a hashes
 * of the question's length, first and last path. Not of all of it: hashing the benchmark
 * plan's 2,000 paths took 3 ms of code that runs once per process, in V8's interpreter. Two
 * questions with the same key take turns in one file, each a miss after the other: the
 * file holds its question in full, and only that question is answered from it.
 *
 *   memo     = "slime validity memo 1\n" stamp "\n" generation "\n" question
 *   stamp    = dev " " ino " " size " " mtimeNs " " ctimeNs      db.sqlite's, from stat(2)
 *   question = the store paths asked, in the order asked, joined by "\n"
 *
 * A memo says: when `db.sqlite` had this stamp and no write-ahead log beside it, every
 * path of the question was valid and the gc generation (src/store/gc.ts) was this one,
 * with no gc running. Why a matching stamp with no log means the same content:
 *   - The database is in WAL mode: every transaction (a registration, a path forgotten, a
 *     gc's start and end) is appended to `db.sqlite-wal`, which exists while any
 *     connection is open and is removed only by the last connection's close, after it
 *     has copied every frame into `db.sqlite`, a write that moves the file's mtime and
 *     ctime. A process that died with the database open leaves its log, and no memo is
 *     used until the next opener has folded it in.
 *   - File times come from the kernel's coarse clock: a write in the same tick as the
 *     memo's stamp could leave them as they were. A memo is written only for a file last
 *     modified over a second before (as git treats "racily clean" index entries).
 *   - A memo is written only from the state its stamp names: the stamp is taken before
 *     this process opens the database (no log then), and after the query the file's stamp
 *     is unchanged and the log empty: no other writer committed in between.
 * Whatever else changes a path in the store directory without the database (an `rm -rf`
 * by hand) neither the memo nor the query sees; `slime store verify` does.
 *
 * Memos are a cache: one that cannot be read or written is a miss, never an error; at
 * most MAX_MEMOS are kept, the least recently written going first.
 */
import fs from 'node:fs';
import path from 'node:path';

const HEADER = 'slime validity memo 1\n';
const MAX_MEMOS = 32;
/** How long ago db.sqlite must have been written for its times to tell every later write apart. */
const SETTLED_NS = 1_000_000_000n;

export interface Recalled {
  stamp: string;
  generation: number;
}

export class ValidityMemos {
  readonly dir: string;
  private readonly dbFile: string;
  private readonly walFile: string;

  constructor(stateDir: string, dbFile: string) {
    this.dir = path.join(stateDir, 'validity');
    this.dbFile = dbFile;
    this.walFile = `${dbFile}-wal`;
  }

  /** db.sqlite's stamp when no write-ahead log is beside it; undefined when there is one, or no database. */
  quietStamp(): string | undefined {
    if (fs.existsSync(this.walFile)) return undefined;
    return this.fileStamp();
  }

  /** The generation a memo of `question` holds for `stamp`, if there is one. */
  recall(question: string[], stamp: string): Recalled | undefined {
    let memo: string;
    try {
      memo = fs.readFileSync(this.fileFor(question), 'latin1');
    } catch {
      return undefined;
    }
    const text = question.join('\n');
    const stampEnd = memo.indexOf('\n', HEADER.length);
    const generationEnd = memo.indexOf('\n', stampEnd + 1);
    if (!memo.startsWith(HEADER) || stampEnd < 0 || generationEnd < 0) return undefined;
    if (memo.slice(HEADER.length, stampEnd) !== stamp) return undefined;
    // Written and read as latin1: a path with a character beyond it reads back other than it was asked, a miss.
    if (memo.length - generationEnd - 1 !== text.length || memo.slice(generationEnd + 1) !== text) return undefined;
    const digits = memo.slice(stampEnd + 1, generationEnd);
    const generation = Number(digits);
    return /^\d+$/.test(digits) && Number.isSafeInteger(generation) ? { stamp, generation } : undefined;
  }

  /**
   * After a query that found every path of `question` valid, with gc generation
   * `generation` and no gc running: written if the database is as `before` (its stamp
   * taken before this process opened it) and settled, and no other writer committed
   * since (an empty log: this process only read).
   */
  remember(question: string[], before: string, generation: number): void {
    try {
      if (this.fileStamp() !== before) return;
      const wal = fs.statSync(this.walFile, { throwIfNoEntry: false });
      if (wal !== undefined && wal.size > 0) return;
      const mtimeNs = BigInt(before.split(' ')[3]!);
      if (BigInt(Date.now()) * 1_000_000n - mtimeNs < SETTLED_NS) return;
      const text = question.join('\n');
      fs.mkdirSync(this.dir, { recursive: true });
      const file = this.fileFor(question);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${HEADER}${before}\n${generation}\n${text}`, 'latin1');
      fs.renameSync(tmp, file);
      this.prune(file);
    } catch {
      // A memo not written is a query next time.
    }
  }

  private prune(kept: string): void {
    const names = fs.readdirSync(this.dir);
    if (names.length <= MAX_MEMOS) return;
    const memos = names
      .map((name) => path.join(this.dir, name))
      .filter((p) => p !== kept)
      .map((p) => ({ p, mtime: fs.statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => a.mtime - b.mtime);
    for (const { p } of memos.slice(0, names.length - MAX_MEMOS)) fs.rmSync(p, { force: true });
  }

  private fileStamp(): string | undefined {
    const st = fs.statSync(this.dbFile, { bigint: true, throwIfNoEntry: false });
    return st && `${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
  }

  private fileFor(question: string[]): string {
    const summary = `${question.length}\n${question[0] ?? ''}\n${question.at(-1) ?? ''}`;
    return path.join(this.dir, `${fnv1a(summary, 0x811c9dc5)}${fnv1a(summary, 0x2f3b1d67)}`);
  }
}

function fnv1a(text: string, seed: number): string {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
