/**
 * What `slime verify` finds and `slime verify --repair` fixes: a damaged metadata entry,
 * a deleted `.drv`, a deleted output, a flipped byte; each named, none crashing another
 * command. And a store made by an older slime (JSON metadata) keeps working.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

function twoTargets(dir: string): string {
  return writeModule(dir, 'two.ts', `
export const lib = derivation({ name: 'lib', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir $out; echo lib > $out/data'] });
export const app = derivation({ name: 'app', builder: '/bin/sh', tools: ['cat'], args: ['-c', 'echo "uses $lib" > $out'], env: { lib } });
export const targets = [target('app', 'app and its lib', [app])];`);
}

async function builtStore(): Promise<{ dir: string; file: string; store: string; find: (suffix: string) => string }> {
  const dir = tempDir();
  const file = twoTargets(dir);
  const store = path.join(dir, 'store');
  const r = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
  expect(r.code).toBe(0);
  const find = (suffix: string) => path.join(store, storePaths(store).find((p) => p.endsWith(suffix))!);
  return { dir, file, store, find };
}

function sql(store: string, statement: string, ...params: unknown[]): void {
  const db = new Database(path.join(store, '.slime/db.sqlite'));
  db.prepare(statement).run(...params);
  db.close();
}

describe('slime verify --repair', () => {
  it('a damaged metadata entry: named by verify, other commands go on, repair rebuilds it', async () => {
    const { dir, file, store, find } = await builtStore();
    const lib = find('-lib');
    sql(store, 'UPDATE ValidPaths SET hash = ? WHERE path = ?', 'garbage', lib);
    const bad = await slime(['verify', '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${lib}: its metadata entry is damaged: its NAR hash "garbage" is not a sha256 hash`);
    expect(bad.stderr).toContain('run `slime verify --repair`');
    const info = await slime(['store', 'path-info', lib, '--store', store]);
    expect(info.code).toBe(1);
    expect(info.stderr).not.toMatch(/internal error|at /);
    const gcDry = await slime(['gc', '--dry-run', '--store', store]);
    expect(gcDry.code).toBe(0);

    const repaired = await slime(['verify', '--repair', '--store', store]);
    expect(repaired.stderr).toContain(`${lib}: its metadata entry is damaged`);
    expect(repaired.stderr).toContain('repaired: rebuilt from');
    expect(repaired.code).toBe(0);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
    expect((await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir })).stderr).toContain('0 built');
  }, 240_000);

  it('a deleted .drv: named; repair forgets it and what refers to it; realize writes it again', async () => {
    const { dir, file, store, find } = await builtStore();
    const libDrv = find('-lib.drv');
    fs.rmSync(libDrv);
    const shown = await slime(['show', libDrv, '--store', store]);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/^error: cannot read .*lib\.drv: ENOENT; the store lost it: run `slime verify --repair`/);
    const bad = await slime(['verify', '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${libDrv}: missing from the store directory`);
    const repaired = await slime(['verify', '--repair', '--store', store]);
    expect(repaired.stderr).toContain(`${libDrv}: missing from the store directory — repaired: cannot be remade from the store alone`);
    expect(repaired.stderr).toContain('run `slime realize` for the target to write it again');
    expect(repaired.code).toBe(0);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
    const missingShow = await slime(['show', libDrv, '--store', store]);
    expect(missingShow.stderr).toMatch(/is not a valid derivation in the store/);
    const again = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
    expect(again.code).toBe(0);
    expect(fs.existsSync(libDrv)).toBe(true);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);

  it('a deleted output and a flipped byte: named, rebuilt from their .drv', async () => {
    const { store, find } = await builtStore();
    const lib = find('-lib');
    const app = find('-app');
    fs.chmodSync(lib, 0o755);
    fs.rmSync(lib, { recursive: true });
    const bytes = fs.readFileSync(app);
    bytes[0] ^= 1;
    fs.chmodSync(app, 0o644);
    fs.writeFileSync(app, bytes);
    const bad = await slime(['verify', '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${lib}: missing from the store directory`);
    expect(bad.stderr).toContain(`${app}: contents changed`);
    const repaired = await slime(['verify', '--repair', '--store', store]);
    expect(repaired.code).toBe(0);
    expect(fs.readFileSync(path.join(lib, 'data'), 'utf8')).toBe('lib\n');
    expect(fs.readFileSync(app, 'utf8')).toBe(`uses ${lib}\n`);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);

  it('a target output removed by hand: realize says so and fails rather than link ./result to nothing', async () => {
    const { dir, file, store, find } = await builtStore();
    const app = find('-app');
    fs.rmSync(app, { force: true });
    const r = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${app} is registered valid but missing from the store directory (removed by hand?); \`slime verify --repair\` rebuilds it`);
    expect((await slime(['verify', '--repair', '--store', store])).code).toBe(0);
    const again = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'result'), 'utf8')).toMatch(/^uses /);
  }, 240_000);

  it('a path whose deriver is gone and that nothing can rebuild: forgotten, with what to run', async () => {
    const { store, find } = await builtStore();
    const lib = find('-lib');
    sql(store, 'UPDATE ValidPaths SET hash = ?, deriver = NULL WHERE path = ?', 'x', lib);
    const repaired = await slime(['verify', '--repair', '--store', store]);
    expect(repaired.stderr).toContain(`${lib}: its metadata entry is damaged`);
    expect(repaired.stderr).toMatch(/forgotten and deleted with the 1 path\(s\) that refer to it; run `slime realize`/);
    expect(repaired.code).toBe(0);
    expect(fs.existsSync(lib)).toBe(false);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);
});

describe('a store made by an older slime (.slime/db/*.json)', () => {
  it('is imported on open; an unreadable file is named and its path left unregistered', async () => {
    const { dir, file, store, find } = await builtStore();
    const lib = find('-lib');
    // Turn the store back into the JSON layout: one file per path, as slime wrote before.
    const db = new Database(path.join(store, '.slime/db.sqlite'));
    const rows = db.prepare('SELECT * FROM ValidPaths').all();
    fs.mkdirSync(path.join(store, '.slime/db'));
    for (const row of rows) {
      const refs = db.prepare('SELECT v.path FROM Refs r JOIN ValidPaths v ON v.id = r.reference WHERE r.referrer = ?').all(row.id).map((r: { path: string }) => r.path);
      const info = { path: row.path, narHash: row.hash, narSize: row.narSize, references: refs, deriver: row.deriver ?? undefined, ca: row.ca ?? undefined, registrationTime: row.registrationTime, signatures: [] };
      fs.writeFileSync(path.join(store, '.slime/db', `${path.basename(row.path).slice(0, 32)}.json`), JSON.stringify(info));
    }
    db.close();
    for (const f of ['db.sqlite', 'db.sqlite-wal', 'db.sqlite-shm']) fs.rmSync(path.join(store, '.slime', f), { force: true });
    const appJson = path.join(store, '.slime/db', `${path.basename(find('-app')).slice(0, 32)}.json`);
    fs.writeFileSync(appJson, '{"path": "trunc');

    const verify = await slime(['verify', '--store', store]);
    expect(verify.stderr).toContain(`warning: store metadata not imported: ${appJson}:`);
    expect(verify.code).toBe(0);
    expect(fs.existsSync(path.join(store, '.slime/db'))).toBe(false);
    const info = await slime(['store', 'path-info', lib, '--store', store, '--json']);
    expect(JSON.parse(info.stdout).path).toBe(lib);
    const again = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('1 built');
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);
});
