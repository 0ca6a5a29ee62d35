/**
 * The evaluation cache (src/derivation/eval-cache.ts) is never stale: every input that
 * can change a derivation's hash invalidates the cached plan, and the plan computed
 * after the change is the one a cold evaluation gives. SLIME_TRACE_EVAL_CACHE=1 makes
 * the CLI say whether it used the cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, BUNDLE, ROOT, slime, tempDir } from './support/cli.js';
import { stampOf } from '../src/derivation/eval-cache.js';

interface Shown {
  trace: string[];
  drvPath: string;
  json: string;
}

function project(): { dir: string; file: string; store: string; tool: string } {
  const dir = tempDir('slime-eval-cache-');
  fs.writeFileSync(path.join(dir, 'lib.ts'), `export const greeting: string = 'hello';\n`);
  fs.writeFileSync(path.join(dir, 'script.sh'), 'echo "$greeting" > $out\n');
  fs.mkdirSync(path.join(dir, 'data', 'nested'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'nested', 'a.txt'), 'aaaa\n');
  const tool = path.join(dir, 'mytool');
  fs.writeFileSync(tool, '#!/bin/sh\necho mytool 1.0\n', { mode: 0o755 });
  const file = path.join(dir, 'mod.ts');
  fs.writeFileSync(
    file,
    `import { derivation, evaluationEnv, source, target } from ${JSON.stringify(API)};
import { greeting } from './lib.js';
export const thing = derivation({
  name: 'thing',
  builder: '/bin/sh',
  args: ['-e', source(import.meta.url, 'script.sh')],
  env: { greeting, data: source(import.meta.url, 'data'), flavour: evaluationEnv('SLIME_TEST_FLAVOUR') ?? 'plain' },
  tools: [${JSON.stringify(tool)}],
});
export const targets = [target('thing', 'one derivation', [thing])];
`,
  );
  return { dir, file, store: path.join(dir, 'store'), tool };
}

async function show(p: { dir: string; file: string; store: string }, opts: { store?: string; env?: NodeJS.ProcessEnv; cli?: string[] } = {}): Promise<Shown> {
  const args = ['show', 'thing', '-f', p.file, '--store', opts.store ?? p.store];
  const r = opts.cli
    ? await runNode([...opts.cli, ...args], p.dir, opts.env)
    : await slime(args, { cwd: p.dir, env: { SLIME_TRACE_EVAL_CACHE: '1', ...opts.env } });
  expect(r.code, r.stderr).toBe(0);
  const trace = r.stderr.split('\n').filter((l) => l.startsWith('eval-cache: ')).map((l) => l.slice('eval-cache: '.length));
  const parsed = JSON.parse(r.stdout) as { drvPath: string };
  return { trace, drvPath: parsed.drvPath, json: r.stdout };
}

async function runNode(args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, CI: '1', SLIME_TRACE_EVAL_CACHE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs until the plan is saved (an evaluation racing with a just-written file is not kept), then expects a hit. */
async function primed(p: { dir: string; file: string; store: string }, opts: Parameters<typeof show>[1] = {}): Promise<Shown> {
  let first = await show(p, opts);
  for (let i = 0; i < 5 && !first.trace.includes('saved') && !first.trace.includes('hit'); i++) first = await show(p, opts);
  expect(first.trace.some((t) => t === 'saved' || t === 'hit'), first.trace.join('; ')).toBe(true);
  const again = await show(p, opts);
  expect(again.trace).toEqual(['hit']);
  expect(again.json).toBe(first.json);
  return again;
}

/** After a change: the cache misses, and the plan equals what an evaluation without the cache gives. */
async function expectFresh(p: { dir: string; file: string; store: string }, before: Shown, why: RegExp, opts: Parameters<typeof show>[1] = {}): Promise<Shown> {
  const after = await show(p, opts);
  expect(after.trace[0]).toMatch(/^miss: /);
  expect(after.trace[0]).toMatch(why);
  const cold = await show(p, { ...opts, env: { ...opts.env, SLIME_EVAL_CACHE: '0' } });
  expect(cold.trace).toEqual([]);
  expect(after.json).toBe(cold.json);
  expect(after.drvPath).not.toBe(before.drvPath);
  return after;
}

describe('the evaluation cache', { timeout: 300_000 }, () => {
  it('reuses the plan of an unchanged module, and survives a touch that changes no byte', async () => {
    const p = project();
    const hit = await primed(p);
    const now = new Date();
    fs.utimesSync(p.file, now, now);
    fs.utimesSync(path.join(p.dir, 'data', 'nested', 'a.txt'), now, now);
    const touched = await show(p);
    expect(touched.trace).toEqual(['hit']);
    expect(touched.json).toBe(hit.json);
  });

  it('is invalidated by the module file and by a file it imports', async () => {
    const p = project();
    let before = await primed(p);
    fs.writeFileSync(p.file, fs.readFileSync(p.file, 'utf8').replace("'one derivation'", "'one derivation'") + `// comment\n` + `export const other = thing;\n`);
    // A change that leaves the derivation alone still re-evaluates, with the same result.
    const same = await show(p);
    expect(same.trace[0]).toMatch(/^miss: .*mod\.ts changed/);
    expect(same.drvPath).toBe(before.drvPath);
    fs.writeFileSync(p.file, fs.readFileSync(p.file, 'utf8').replace("greeting, data", "greeting, extra: 'x', data"));
    before = await expectFresh(p, before, /mod\.ts changed/);
    await primed(p);
    fs.writeFileSync(path.join(p.dir, 'lib.ts'), `export const greeting: string = 'bonjour';\n`);
    await expectFresh(p, before, /lib\.ts changed/);
  });

  it('is invalidated by every file bundled with the module: a TypeScript package, a tsconfig path alias, JSON', async () => {
    // What esbuild resolves and bundles is what the evaluation ran; a bare specifier is
    // no sign of a file outside the plan's inputs (a pattern search of relative imports,
    // which listed them until 2026-12-05, missed all three).
    const dir = tempDir();
    const w = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    };
    w('node_modules/tsgreet/package.json', '{ "name": "tsgreet", "main": "index.ts" }\n');
    w('node_modules/tsgreet/index.ts', `export const hi: string = 'hi';\n`);
    w('tsconfig.json', '{ "compilerOptions": { "baseUrl": ".", "paths": { "@lib/*": ["lib/*"] } } }\n');
    w('lib/word.ts', `export const word: string = 'one';\n`);
    w('settings.json', '{ "flavour": "plain" }\n');
    const file = path.join(dir, 'mod.ts');
    w(
      'mod.ts',
      `import { derivation, target } from ${JSON.stringify(API)};
import { hi } from 'tsgreet';
import { word } from '@lib/word';
import settings from './settings.json';
export const thing = derivation({ name: 'thing', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { hi, word, flavour: settings.flavour } });
export const targets = [target('thing', 'one derivation', [thing])];
`,
    );
    const p = { dir, file, store: path.join(dir, 'store') };
    let before = await primed(p);
    w('node_modules/tsgreet/index.ts', `export const hi: string = 'hello';\n`);
    before = await expectFresh(p, before, /node_modules\/tsgreet\/index\.ts changed/);
    await primed(p);
    w('lib/word.ts', `export const word: string = 'two';\n`);
    before = await expectFresh(p, before, /lib\/word\.ts changed/);
    await primed(p);
    w('settings.json', '{ "flavour": "spicy" }\n');
    await expectFresh(p, before, /settings\.json changed/);
  });

  it("is invalidated by a file a JavaScript module imports (Node runs it unbundled; esbuild lists its files)", async () => {
    const dir = tempDir();
    const api = path.join(ROOT, 'dist', 'src', 'derivation', 'api.js');
    fs.writeFileSync(path.join(dir, 'helper.mjs'), `export const word = 'one';\n`);
    const file = path.join(dir, 'mod.mjs');
    fs.writeFileSync(
      file,
      `import { derivation, target } from ${JSON.stringify(api)};
import { word } from './helper.mjs';
export const thing = derivation({ name: 'thing', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { word } });
export const targets = [target('thing', 'one derivation', [thing])];
`,
    );
    const p = { dir, file, store: path.join(dir, 'store') };
    const before = await primed(p);
    fs.writeFileSync(path.join(dir, 'helper.mjs'), `export const word = 'two';\n`);
    await expectFresh(p, before, /helper\.mjs changed/);
  });

  it('is invalidated by a source() file, and by a file deep in a source() directory even with its size and mtime kept', async () => {
    const p = project();
    let before = await primed(p);
    fs.writeFileSync(path.join(p.dir, 'script.sh'), 'echo "$greeting!" > $out\n');
    before = await expectFresh(p, before, /source .*script\.sh changed/);
    await primed(p);
    const nested = path.join(p.dir, 'data', 'nested', 'a.txt');
    const st = fs.statSync(nested);
    fs.writeFileSync(nested, 'bbbb\n');
    fs.utimesSync(nested, st.atime, st.mtime);
    before = await expectFresh(p, before, /source .*data changed/);
    await primed(p);
    fs.writeFileSync(path.join(p.dir, 'data', 'new.txt'), 'new\n');
    await expectFresh(p, before, /source .*data changed/);
  });

  it("stamps a source() directory by its listing, or a long listing's digest, and either changes with an entry's content", () => {
    const dir = tempDir('slime-stamp-');
    const small = path.join(dir, 'small');
    const big = path.join(dir, 'big');
    fs.mkdirSync(path.join(small, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(small, 'nested', 'a.txt'), 'aaaa\n');
    fs.mkdirSync(path.join(big, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(big, 'nested', 'a.txt'), 'aaaa\n');
    // Some 1500 entries: a listing longer than the 64 KiB kept as it is.
    for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(big, `file-with-a-longish-name-${i}.txt`), `${i}\n`);
    const before = { small: stampOf(small).stamp, big: stampOf(big).stamp };
    expect(before.small).toMatch(/^listing:/);
    expect(before.big).toMatch(/^tree:[0-9a-f]{64}$/);
    for (const d of [small, big]) {
      const f = path.join(d, 'nested', 'a.txt');
      const st = fs.statSync(f);
      fs.writeFileSync(f, 'bbbb\n');
      fs.utimesSync(f, st.atime, st.mtime);
    }
    expect(stampOf(small).stamp).not.toBe(before.small);
    expect(stampOf(big).stamp).not.toBe(before.big);
  });

  it('is invalidated by a host tool and by a declared environment variable', async () => {
    const p = project();
    let before = await primed(p);
    fs.writeFileSync(p.tool, '#!/bin/sh\necho mytool 2.0\n', { mode: 0o755 });
    before = await expectFresh(p, before, /host tool .*mytool changed/);
    await primed(p);
    await expectFresh(p, before, /SLIME_TEST_FLAVOUR changed/, { env: { SLIME_TEST_FLAVOUR: 'spicy' } });
  });

  it('keeps plans per store directory', async () => {
    const p = project();
    const before = await primed(p);
    const other = path.join(p.dir, 'other-store');
    const moved = await show(p, { store: other });
    expect(moved.trace[0]).toMatch(/^miss: /);
    expect(moved.drvPath.startsWith(other + '/')).toBe(true);
    expect(before.drvPath.startsWith(p.store + '/')).toBe(true);
    expect((await show(p)).trace).toEqual(['hit']);
  });

  it("gives an emptied store of the same directory the user's plan, which a changed input still invalidates", async () => {
    const p = project();
    const userDir = path.join(p.dir, 'user-eval-cache');
    const env = { SLIME_EVAL_CACHE_DIR: userDir };
    // Plans left by other runs, older than this one: the user's directory keeps the 64 most recently used.
    fs.mkdirSync(userDir, { recursive: true });
    for (let i = 0; i < 70; i++) {
      const old = path.join(userDir, `old-${i}.json`);
      fs.writeFileSync(old, '{}\n');
      fs.utimesSync(old, new Date(2020, 0, 1, 0, i), new Date(2020, 0, 1, 0, i));
    }
    const before = await primed(p, { env });
    const kept = fs.readdirSync(userDir);
    expect(kept).toHaveLength(64);
    expect(kept).not.toContain('old-0.json');
    fs.rmSync(p.store, { recursive: true, force: true });
    const emptied = await show(p, { env });
    // Looked up twice: before the store is made (a wrong target then leaves none behind), and
    // once it exists, which keeps the plan as the store's own.
    expect(emptied.trace).toEqual(["hit (the user's cache)", "hit (the user's cache)"]);
    expect(emptied.json).toBe(before.json);
    // Taken as the store's own: the next run reads only the store's copy.
    expect((await show(p, { env })).trace).toEqual(['hit']);
    // The plan's source() paths are not in the emptied store until realized: realize adds them and builds.
    fs.rmSync(p.store, { recursive: true, force: true });
    const built = await slime(['realize', 'thing', '-f', p.file, '--store', p.store, '--no-link', '--no-sandbox'], { cwd: p.dir, env: { ...env, SLIME_TRACE_EVAL_CACHE: '1' } });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain("eval-cache: hit (the user's cache)");
    expect(fs.readFileSync(built.stdout.trim(), 'utf8')).toBe('hello\n');
    // A stale user copy is never used: with the store emptied again and lib.ts changed, a fresh evaluation.
    fs.rmSync(p.store, { recursive: true, force: true });
    fs.writeFileSync(path.join(p.dir, 'lib.ts'), `export const greeting: string = 'bonjour';\n`);
    await expectFresh(p, before, /lib\.ts changed/, { env });
    // SLIME_EVAL_CACHE_DIR='' turns the user's copy off.
    fs.rmSync(p.store, { recursive: true, force: true });
    expect((await show(p, { env: { SLIME_EVAL_CACHE_DIR: '' } })).trace[0]).toBe('miss: no cached plan');
  });

  it("decodes the derivations' full contents (the file's second line) only when read, and says so when that line is damaged", async () => {
    const p = project();
    const hit = await primed(p);
    // `show` prints the whole derivation: from a hit, it comes from the second line.
    expect(JSON.parse(hit.json)).toMatchObject({ derivation: { builder: '/bin/sh' } });
    const dir = path.join(p.store, '.slime', 'eval-cache');
    const [file] = fs.readdirSync(dir);
    const text = fs.readFileSync(path.join(dir, file!), 'utf8');
    const [head, drvs] = text.split('\n');
    expect(JSON.parse(head!)).toMatchObject({ format: 3 });
    expect(JSON.parse(drvs!)).toHaveLength(1);
    // Line 1 naming an input by an index that is no earlier entry: a damaged plan, evaluated afresh.
    const plan = JSON.parse(head!) as { derivations: { inputs: number[] }[] };
    plan.derivations[0]!.inputs = [7];
    fs.writeFileSync(path.join(dir, file!), `${JSON.stringify(plan)}\n${drvs}\n`);
    const redone = await show(p);
    expect(redone.trace[0]).toBe('miss: cache format');
    expect(redone.json).toBe(hit.json);
    fs.writeFileSync(path.join(dir, file!), `${head}\n${drvs!.slice(0, 40)}\n`);
    // What needs only the plan's names and paths still runs from the first line.
    const targets = await slime(['targets', '-f', p.file, '--store', p.store], { cwd: p.dir, env: { SLIME_TRACE_EVAL_CACHE: '1' } });
    expect(targets.code, targets.stderr).toBe(0);
    expect(targets.stderr).toContain('eval-cache: hit');
    const r = await slime(['show', 'thing', '-f', p.file, '--store', p.store], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the evaluation cache of .*mod\.ts is damaged \(.*\); run again with SLIME_EVAL_CACHE=0/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const fresh = await slime(['show', 'thing', '-f', p.file, '--store', p.store], { cwd: p.dir, env: { SLIME_EVAL_CACHE: '0' } });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toBe(hit.json);
  });

  it("is invalidated by slime's own version and code", async () => {
    const p = project();
    // A copy of slime whose package.json and compiled code the test may change.
    const copy = tempDir('slime-eval-cache-self-');
    fs.cpSync(path.join(ROOT, 'dist', 'src'), path.join(copy, 'dist', 'src'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    fs.writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ ...pkg, version: '0.1.0' }));
    const cli = [path.join(copy, 'dist', 'src', 'cli', 'main.js')];
    const before = await primed(p, { cli });
    fs.writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ ...pkg, version: '0.1.1' }));
    const bumped = await show(p, { cli });
    expect(bumped.trace[0]).toMatch(/slime's version or code changed/);
    expect(bumped.json).toBe(before.json);
    await primed(p, { cli });
    const drvHash = path.join(copy, 'dist', 'src', 'derivation', 'drv-hash.js');
    fs.appendFileSync(drvHash, '\n// changed\n');
    expect((await show(p, { cli })).trace[0]).toMatch(/slime's version or code changed/);
    // Its dependencies (tsx transpiles the module) change with its lock file.
    await primed(p, { cli });
    fs.writeFileSync(path.join(copy, 'package-lock.json'), fs.readFileSync(path.join(ROOT, 'package-lock.json')));
    expect((await show(p, { cli })).trace[0]).toMatch(/slime's version or code changed/);
  });

  it("is invalidated by the bundle's own code (package.json's bin: dist/bin/)", async () => {
    const p = project();
    const copy = tempDir('slime-eval-cache-bundle-');
    fs.cpSync(path.dirname(BUNDLE), path.join(copy, 'dist', 'bin'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    const cli = [path.join(copy, 'dist', 'bin', 'slime.cjs')];
    const before = await primed(p, { cli });
    // The bundle computes the same plan as tsc's dist/src/ evaluating the module afresh.
    expect(before.json).toBe((await show(p, { env: { SLIME_EVAL_CACHE: '0' } })).json);
    expect((await show(p, { cli })).trace).toEqual(['hit']);
    // Any chunk: the one with the derivation hashing, or one a no-op never loads.
    const chunks = fs.readdirSync(path.join(copy, 'dist', 'bin')).filter((f) => f !== 'slime.cjs');
    for (const chunk of [chunks.find((f) => fs.readFileSync(path.join(copy, 'dist', 'bin', f), 'utf8').includes('moduloHash'))!, chunks[0]!]) {
      fs.appendFileSync(path.join(copy, 'dist', 'bin', chunk), '\n// changed\n');
      expect((await show(p, { cli })).trace[0]).toMatch(/slime's version or code changed/);
      expect((await show(p, { cli })).trace).toEqual(['hit']);
    }
    // A chunk added (a stale one of an older build, say).
    fs.writeFileSync(path.join(copy, 'dist', 'bin', 'chunk-NEW.js'), 'export {};\n');
    expect((await show(p, { cli })).trace[0]).toMatch(/slime's version or code changed/);
  });
});
