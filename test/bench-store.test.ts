/**
 * Which store `npm run bench` measures (bench/lib.ts, benchStoreDir): the one `slime
 * realize` used, so that the README's `npx slime realize full-x86_64` followed by `npm run
 * bench` measures what it built; and that the hash benchmark takes the CPython output the
 * store holds valid, not a directory of that name (bench/hash.ts, findCpythonOutput).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findCpythonOutput } from '../bench/hash.js';
import { benchStoreDir, CLI } from '../bench/lib.js';

const saved = { SLIME_BENCH_STORE: process.env.SLIME_BENCH_STORE, SLIME_STORE: process.env.SLIME_STORE, SLIME_BENCH_TREE: process.env.SLIME_BENCH_TREE };
const temps: string[] = [];

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

describe('benchStoreDir', () => {
  it("is slime's own default store unless SLIME_BENCH_STORE says otherwise", () => {
    delete process.env.SLIME_BENCH_STORE;
    delete process.env.SLIME_STORE;
    expect(benchStoreDir()).toBe(path.resolve(import.meta.dirname, '../store'));
    process.env.SLIME_STORE = '/srv/team-store';
    expect(benchStoreDir()).toBe('/srv/team-store');
    process.env.SLIME_BENCH_STORE = '/srv/bench-store';
    expect(benchStoreDir()).toBe('/srv/bench-store');
  });
});

describe("the hash benchmark's tree", () => {
  it('is the CPython quick output the store holds valid, found through SLIME_STORE as slime realize finds its store', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-bench-store-'));
    temps.push(tmp);
    const store = path.join(tmp, 'store');
    const file = path.join(tmp, 'tree');
    fs.writeFileSync(file, 'stands in for the CPython tree\n');
    const env = { ...process.env, SLIME_STORE: store };
    delete env.SLIME_BENCH_STORE;
    const valid = execFileSync(CLI, ['store', 'add-file', file, '--name', 'cpython-3.11.2-quick'], { env, encoding: 'utf8' }).trim();
    expect(valid).toMatch(/^.*\/[0-9a-z]{32}-cpython-3\.11\.2-quick$/);
    // A directory of the same shape the store never registered (a build's leftover): not it.
    fs.mkdirSync(path.join(store, `${'z'.repeat(32)}-cpython-3.11.2-quick`));

    delete process.env.SLIME_BENCH_STORE;
    delete process.env.SLIME_BENCH_TREE;
    process.env.SLIME_STORE = store;
    expect(findCpythonOutput()).toBe(valid);

    // No store there: none (the benchmark then generates a tree), and nothing created.
    process.env.SLIME_STORE = path.join(tmp, 'nowhere');
    expect(findCpythonOutput()).toBeUndefined();
    expect(fs.existsSync(path.join(tmp, 'nowhere'))).toBe(false);
  });
});
