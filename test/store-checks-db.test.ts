/**
 * `slime check` records each check in the store's SQLite metadata (tables Checks,
 * CheckOutputs, CheckFiles of src/store/db.ts): when, how many rounds, the verdict, and
 * every differing file with how it differs; `slime targets` reads them from there. The
 * JSON records of an older slime are imported, and a version-1 database gains the tables.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { checkHistory, lastCheck, MAX_RECORDS, recordCheck, type CheckRecord } from '../src/store/checks.js';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

function query<T>(store: string, statement: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(store, '.slime/db.sqlite'), { readonly: true });
  try {
    return db.prepare(statement).all(...params) as T[];
  } finally {
    db.close();
  }
}

function toys(dir: string): string {
  return writeModule(
    dir,
    'toys.ts',
    `const sh = (name: string, script: string) => derivation({ name, builder: '/bin/sh', args: ['-ec', script], tools: ['mkdir', 'od', 'tr'] });
export const stable = sh('stable', 'mkdir $out; echo hello > $out/hello.txt');
export const randomText = sh('random-text', 'mkdir $out; echo "same line" > $out/notes.txt; echo "lucky $(od -An -N8 -tu8 /dev/urandom | tr -d " ")" >> $out/notes.txt; echo same > $out/same.txt');
export const targets = [target('both', 'one equal, one random', [stable, randomText])];`,
  );
}

function record(drvPath: string, i: number, extra: Partial<CheckRecord> = {}): CheckRecord {
  return {
    drvPath,
    name: 'toy',
    time: 1_700_000_000_000 + i,
    rounds: 1,
    verdict: 'equal',
    roundMs: [100 + i],
    outputs: { out: { path: '/s/aaaa-toy', narHash: `sha256-${'A'.repeat(43)}=`, rebuilt: [`sha256-${'A'.repeat(43)}=`] } },
    ...extra,
  };
}

describe('check records in the store database', () => {
  it('slime check writes a row per derivation, each differing file with its kind and format; slime targets reads them', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'both', '-f', file, '--store', store, '--rounds', '2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(104);

    const checks = query<{ id: number; name: string; verdict: string; rounds: number; roundMs: string; time: number }>(
      store,
      'SELECT id, name, verdict, rounds, roundMs, time FROM Checks ORDER BY name',
    );
    expect(checks.map((c) => [c.name, c.verdict, c.rounds])).toEqual([
      ['random-text', 'differs', 2],
      ['stable', 'equal', 2],
    ]);
    for (const c of checks) {
      expect(c.roundMs.split(' ')).toHaveLength(2);
      expect(c.time).toBeGreaterThan(Date.now() - 3_600_000);
    }
    const files = query<{ name: string; output: string; file: string; kind: string; format: string }>(
      store,
      'SELECT c.name, f.output, f.file, f.kind, f.format FROM CheckFiles f JOIN Checks c ON c.id = f."check" ORDER BY f.ord',
    );
    expect(files).toEqual([{ name: 'random-text', output: 'out', file: 'notes.txt', kind: 'content', format: 'text' }]);
    const outputs = query<{ name: string; path: string; rebuilt: string; narHash: string }>(
      store,
      'SELECT c.name, o.path, o.rebuilt, o.narHash FROM CheckOutputs o JOIN Checks c ON c.id = o."check" ORDER BY c.name',
    );
    expect(outputs.map((o) => o.rebuilt.split(' ').length)).toEqual([2, 2]);
    expect(outputs[1].rebuilt.split(' ')).toEqual([outputs[1].narHash, outputs[1].narHash]);
    expect(storePaths(store)).toContain(path.basename(outputs[0].path));
    // No JSON record files any more.
    expect(fs.existsSync(path.join(store, '.slime/checks')) ? fs.readdirSync(path.join(store, '.slime/checks')) : []).toEqual([]);

    const targets = await slime(['targets', '-f', file, '--store', store, '--json'], { cwd: dir });
    const states = JSON.parse(targets.stdout) as { name: string; check?: { verdict: string; rounds: number; checked: number; equal: number; differs: number } }[];
    expect(states.find((s) => s.name === 'both')!.check).toMatchObject({ verdict: 'differs', rounds: 2, checked: 2, equal: 1, differs: 1 });
  }, 120_000);

  it('keeps the last records of a derivation, oldest first, with their differences', () => {
    const store = new Store(path.join(tempDir(), 'store'));
    const drv = '/s/bbbb-toy.drv';
    const difference = { path: 'a.txt', kind: 'content', format: 'text', size: [3, 3], firstOffset: 1, diff: '-a\n+b\n' };
    for (let i = 0; i < MAX_RECORDS + 5; i++) recordCheck(store, record(drv, i));
    recordCheck(store, record(drv, 99, {
      verdict: 'differs',
      rounds: 2,
      roundMs: [5, 6],
      nondeterministic: 'why',
      error: 'what',
      outputs: { out: { path: '/s/aaaa-toy', narHash: 'x', rebuilt: ['y', 'z'], differences: [difference], differencesCut: 3, keptAt: '/s/aaaa-toy.check' } },
    }));
    recordCheck(store, record('/s/cccc-other.drv', 0));
    const history = checkHistory(store, drv);
    expect(history).toHaveLength(MAX_RECORDS);
    expect(history[0].time).toBe(1_700_000_000_000 + 6);
    expect(history.at(-1)).toEqual(lastCheck(store, drv));
    expect(lastCheck(store, drv)).toEqual({
      drvPath: drv,
      name: 'toy',
      time: 1_700_000_000_099,
      rounds: 2,
      verdict: 'differs',
      roundMs: [5, 6],
      nondeterministic: 'why',
      error: 'what',
      outputs: { out: { path: '/s/aaaa-toy', narHash: 'x', rebuilt: ['y', 'z'], differences: [difference], differencesCut: 3, keptAt: '/s/aaaa-toy.check' } },
    });
    expect(lastCheck(store, '/s/dddd-never.drv')).toBeUndefined();
    store.close();
    // The trimmed records took their outputs and files with them.
    expect(query<{ n: number }>(store.dir, 'SELECT count(*) AS n FROM CheckOutputs')[0].n).toBe(MAX_RECORDS + 1);
  });

  it('imports the JSON records of an older slime, names a file it cannot read and leaves it', () => {
    const store = new Store(path.join(tempDir(), 'store'));
    const dir = path.join(store.stateDir, 'checks');
    fs.mkdirSync(dir, { recursive: true });
    const drv = '/s/eeee-old.drv';
    fs.writeFileSync(path.join(dir, 'eeee-old.drv.json'), JSON.stringify([record(drv, 1), record(drv, 2, { verdict: 'expected-to-differ' })]));
    fs.writeFileSync(path.join(dir, 'ffff-bad.drv.json'), '[{"drvPath": 1}]');
    fs.writeFileSync(path.join(dir, 'x-diffoscope.html'), '<html></html>');
    expect(checkHistory(store, drv).map((r) => r.verdict)).toEqual(['equal', 'expected-to-differ']);
    expect(store.migrationProblems).toEqual([`${path.join(dir, 'ffff-bad.drv.json')}: not a list of check records`]);
    expect(fs.readdirSync(dir).sort()).toEqual(['ffff-bad.drv.json', 'x-diffoscope.html']);
    store.close();
    // Opened again: nothing imported twice.
    const again = new Store(store.dir);
    expect(checkHistory(again, drv)).toHaveLength(2);
    again.close();
  });

  it('a version-1 database (before check records) gains the tables and keeps its paths', () => {
    const dir = path.join(tempDir(), 'store');
    fs.mkdirSync(path.join(dir, '.slime'), { recursive: true });
    const v1 = new Database(path.join(dir, '.slime/db.sqlite'));
    v1.exec(`CREATE TABLE ValidPaths (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, path TEXT UNIQUE NOT NULL, hash TEXT NOT NULL,
      registrationTime INTEGER NOT NULL, deriver TEXT, narSize INTEGER, ca TEXT, sigs TEXT, buildDurationMs INTEGER);
      INSERT INTO ValidPaths (path, hash, registrationTime, narSize) VALUES ('${dir}/gggg-kept', 'sha256-${'B'.repeat(43)}=', 1, 8);
      PRAGMA user_version = 1;`);
    v1.close();
    const store = new Store(dir);
    expect(store.db.isValid(`${dir}/gggg-kept`)).toBe(true);
    recordCheck(store, record('/s/hhhh-new.drv', 0));
    expect(lastCheck(store, '/s/hhhh-new.drv')!.verdict).toBe('equal');
    store.close();
    expect(query<{ user_version: number }>(dir, 'PRAGMA user_version')[0].user_version).toBe(3);
  });
});
