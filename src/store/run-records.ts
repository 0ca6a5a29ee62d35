/**
 * Records of `slime run`: which tier ran a script, why, how long it took, how it ended.
 * They are the router's run-time profile (a script that ran over budget on the Light
 * tier goes to Full next time) and what `slime tui` lists as recent runs.
 *
 * Layout: `<store>/.slime/runs.jsonl`, one JSON object per line:
 *   {"time": ms since epoch, "scriptHash": sha256 hex of the script's bytes,
 *    "script": absolute path, "tier": "full"|"light", "requested": "auto"|"full"|"light",
 *    "reasons": [ {kind, effect, detail, line?} ], "wallMs": n, "exitCode": n|null,
 *    "signal": name|null, "budgetMs": n}
 * Each record is one write(2) with O_APPEND, so concurrent runs never interleave
 * within a line; a line that does not parse (a crash mid-write) is skipped on reading.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from './store.js';

export interface RunRecord {
  time: number;
  scriptHash: string;
  script: string;
  tier: 'full' | 'light';
  requested: 'auto' | 'full' | 'light';
  reasons: { kind: string; effect: string; detail: string; line?: number }[];
  wallMs: number;
  exitCode: number | null;
  signal: string | null;
  budgetMs: number;
}

function recordsFile(store: Store): string {
  return path.join(store.stateDir, 'runs.jsonl');
}

export function appendRunRecord(store: Store, record: RunRecord): void {
  const file = recordsFile(store);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, JSON.stringify(record) + '\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** Every record, oldest first; damaged lines are skipped. */
export function readRunRecords(store: Store): RunRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(recordsFile(store), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const records: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const r = JSON.parse(line) as RunRecord;
      if (typeof r.scriptHash === 'string' && (r.tier === 'full' || r.tier === 'light') && typeof r.wallMs === 'number') records.push(r);
    } catch {
      // a line cut short by a crash: not a record
    }
  }
  return records;
}

/**
 * Calls `onChange` whenever a record may have been appended, by this process or
 * another (inotify on the state directory, filtered to the records' file); returns
 * the unsubscribe. Where the directory cannot be watched it never calls.
 */
export function watchRunRecords(store: Store, onChange: () => void): () => void {
  const name = path.basename(recordsFile(store));
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(path.dirname(recordsFile(store)), { persistent: false }, (_event, file) => {
      if (file === null || file === name) onChange();
    });
  } catch {
    return () => {};
  }
  watcher.on('error', () => watcher.close());
  return () => watcher.close();
}

export function runsOfScript(store: Store, scriptHash: string): RunRecord[] {
  return readRunRecords(store).filter((r) => r.scriptHash === scriptHash);
}
