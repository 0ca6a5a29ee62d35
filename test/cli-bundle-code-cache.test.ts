/**
 * The installed CLI (package.json's bin): the launcher `dist/bin/slime.cjs` runs the
 * CommonJS bundle `dist/bin/slime-cli.cjs` through V8's code cache (src/cli/launch.ts).
 * The cache is used when it fits, written again when V8 rejects it, never used for
 * another bundle; and the bundle's parts loaded on demand still work from it: a user
 * module imported with import(), Ink (ES only) for the TUI, the scheduler, the store.
 * A copy of `dist/bin/` in a temporary directory is changed, never the build itself.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, ROOT, tempDir } from './support/cli.js';
import { until } from './support/until.js';
import { ONE_SAMPLE_REPORT as REPORT } from './support/report.js';
import { settleDatabase } from './support/store.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the launcher said of the code cache (SLIME_TRACE_CODE_CACHE=1), without a write's size and moment. */
  trace: string[];
  /** The moment of each write, as said: `at its exit`, `as its start-up ended`, `after its first second`. */
  moments: string[];
}

/** A copy of the built bundle, with the project's package.json and node_modules beside it, as an install has them. */
function bundleCopy(): { bin: string; cacheHome: string; dir: string } {
  const dir = tempDir('slime-bundle-');
  fs.cpSync(path.dirname(BUNDLE), path.join(dir, 'dist', 'bin'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  return { bin: path.join(dir, 'dist', 'bin', 'slime.cjs'), cacheHome: path.join(dir, 'cache'), dir };
}

function run(bin: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, CI: '1', SLIME_TRACE_CODE_CACHE: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr: stderr.split('\n').filter((l) => !l.startsWith('code-cache: ')).join('\n'),
        moments: [...stderr.matchAll(/^code-cache: written .* \(\d+ bytes, ([^)]+)\)$/gm)].map((m) => m[1]!),
        trace: stderr.split('\n').filter((l) => l.startsWith('code-cache: ')).map((l) => l.slice('code-cache: '.length).replace(/ \(\d+ bytes, [^)]+\)$/, '')),
      }),
    ),
  );
}

/** A plain JavaScript module in `dir` that imports the compiled API (dist/), as an installed slime has it. */
function jsModule(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `import { derivation, target } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'derivation', 'api.js'))};\n${body}`);
  return file;
}

/** A module (plain JavaScript) with one target, `hello`, which builds a file saying hello. */
function helloModule(dir: string): string {
  return jsModule(
    dir,
    'mod.mjs',
    `const hello = derivation({ name: 'hello', builder: '/bin/sh', args: ['-c', 'echo hello > $out'] });
export const targets = [target('hello', 'says hello', [hello])];
`,
  );
}

const cacheFiles = (cacheHome: string): string[] => {
  const dir = path.join(cacheHome, 'slime', 'code-cache');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};

describe('the CLI bundle and its code cache', { timeout: 300_000 }, () => {
  it('writes the cache at the first run of a command, uses it at the next, and never for a changed bundle', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    const env = { XDG_CACHE_HOME: cacheHome };
    // `slime --help` alone is answered by the launcher: no bundle, no cache.
    expect((await run(bin, ['--help'], { cwd: dir, env })).trace).toEqual([]);
    const help = ['hash', '--help'];
    const first = await run(bin, help, { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Usage: slime hash path');
    const [file] = cacheFiles(cacheHome);
    // The bundle file's identity: device, inode, size, mtime and ctime (ns).
    expect(file).toMatch(new RegExp(`^\\d+-\\d+-\\d+-\\d+-\\d+-${process.version.replace(/\./g, '\\.')}-${process.arch}-hash\\.bin$`));
    const identity = file!.slice(0, file!.indexOf(`-${process.version}`));
    const cacheFile = path.join(cacheHome, 'slime', 'code-cache', file!);
    expect(first.trace).toEqual([`miss ${cacheFile}`, `written ${cacheFile}`]);

    const second = await run(bin, help, { cwd: dir, env });
    expect(second.trace).toEqual([`hit ${cacheFile}`]);
    expect(second.stdout).toBe(first.stdout);

    // Each command has its own: another command compiles other functions.
    const version = await run(bin, ['--version'], { cwd: dir, env });
    expect(version.stdout).toBe('slime 0.1.0\n');
    expect(cacheFiles(cacheHome)).toHaveLength(2);

    // Data V8 cannot use (another V8, other flags, damaged) is rejected and written again.
    fs.writeFileSync(cacheFile, Buffer.alloc(4096, 7));
    const damaged = await run(bin, help, { cwd: dir, env });
    expect(damaged.trace).toEqual([`rejected ${cacheFile}`, `written ${cacheFile}`]);
    expect(damaged.stdout).toBe(first.stdout);
    expect((await run(bin, help, { cwd: dir, env })).trace).toEqual([`hit ${cacheFile}`]);

    // A changed bundle (same length even, rewritten in place) is another key: the old
    // cache is not even read. (npm run build writes a new file and renames it into place.)
    const cli = path.join(path.dirname(bin), 'slime-cli.cjs');
    const code = fs.readFileSync(cli, 'utf8');
    expect(code).toContain('Usage: slime hash path');
    fs.writeFileSync(cli, code.replace('Usage: slime hash path', 'Usage: SLIME hash path'));
    const changed = await run(bin, help, { cwd: dir, env });
    expect(changed.stdout).toContain('Usage: SLIME hash path');
    expect(changed.trace[0]).toMatch(/^miss /);
    expect(changed.trace[0]).not.toContain(identity);

    // Off: nothing read, nothing written.
    const off = await run(bin, help, { cwd: dir, env: { ...env, SLIME_CODE_CACHE: '0' } });
    expect(off.trace).toEqual([]);
    expect(off.stdout).toContain('Usage: SLIME hash path');

    // A usage error (a mistyped command) writes no cache for it.
    const before = cacheFiles(cacheHome);
    const typo = await run(bin, ['relize'], { cwd: dir, env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean');
    expect(cacheFiles(cacheHome)).toEqual(before);
  });

  it('keeps a cache per set of Node options: runs alternating with and without a V8 flag each use their own', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    // --max-old-space-size changes V8's flags, and V8 rejects a cache compiled under other flags.
    const plain = { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: '' };
    const flagged = { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: '--max-old-space-size=3000' };
    const traces: string[][] = [];
    for (const env of [plain, flagged, plain, flagged, plain]) {
      const r = await run(bin, ['--version'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('slime 0.1.0\n');
      traces.push(r.trace.map((t) => t.replace(/ .*\//, ' ')));
    }
    const [plainFile, flaggedFile] = cacheFiles(cacheHome).sort((a, b) => a.length - b.length);
    expect(cacheFiles(cacheHome)).toHaveLength(2);
    expect(plainFile).toMatch(new RegExp(`-${process.arch}-other\\.bin$`));
    expect(flaggedFile).toMatch(new RegExp(`-${process.arch}-o[0-9a-f]{8}-other\\.bin$`));
    expect(traces).toEqual([
      [`miss ${plainFile}`, `written ${plainFile}`],
      [`miss ${flaggedFile}`, `written ${flaggedFile}`],
      [`hit ${plainFile}`],
      [`hit ${flaggedFile}`],
      [`hit ${plainFile}`],
    ]);
  });

  it('a cache directory that cannot be made costs nothing but the cache', async () => {
    const { bin, dir } = bundleCopy();
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    const r = await run(bin, ['--version'], { cwd: dir, env: { XDG_CACHE_HOME: blocker } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('slime 0.1.0\n');
    expect(r.trace[0]).toMatch(/^miss /);
    expect(r.trace[1]).toMatch(/^not written: /);
  });


  it('stays bounded: a write deletes the files unused for 30 days, then the least recently used beyond 64', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    const cacheDir = path.join(cacheHome, 'slime', 'code-cache');
    fs.mkdirSync(cacheDir, { recursive: true });
    // Left by earlier builds of the bundle: 70 files last used 1 to 70 hours ago, and 10
    // last used 31 to 40 days ago.
    const now = Date.now() / 1000;
    const file = (i: number) => path.join(cacheDir, `1-${i}-2-3-4-${process.version}-${process.arch}-realize.bin`);
    const age = (i: number) => (i <= 70 ? i * 3600 : (i - 40) * 24 * 3600);
    for (let i = 1; i <= 80; i++) {
      fs.writeFileSync(file(i), 'x');
      fs.utimesSync(file(i), now - age(i), now - age(i));
    }
    const r = await run(bin, ['--version'], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.trace[1]).toMatch(/^written /);
    const written = r.trace[1]!.slice('written '.length);
    // The one just written and the 63 most recently used of the others (1 to 63 hours ago).
    const expected = [written, ...Array.from({ length: 63 }, (_, i) => file(i + 1))];
    expect(cacheFiles(cacheHome).map((f) => path.join(cacheDir, f)).sort()).toEqual(expected.sort());
    // And it is used.
    expect((await run(bin, ['--version'], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } })).trace).toEqual([`hit ${written}`]);
  });

  it('a run that goes on past its first second writes the cache then, while it runs, not at its exit', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    const release = path.join(dir, 'release');
    // The builder waits for a file the test makes only once the cache file is there: the
    // capture cannot have been the exit's.
    const mod = jsModule(
      dir,
      'wait.mjs',
      `const wait = derivation({ name: 'wait', builder: '/bin/sh', args: ['-c', 'while [ ! -e ${release} ]; do sleep 0.05; done; echo done > $out'] });
export const targets = [target('wait', 'waits to be released', [wait])];
`,
    );
    const runLong = run(bin, ['realize', 'wait', '-f', mod, '--store', path.join(dir, 'store'), '--no-link', '--no-sandbox'], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } });
    let exited = false;
    void runLong.then(() => (exited = true));
    await until(() => expect(exited || cacheFiles(cacheHome).some((f) => f.endsWith('-realize.bin'))).toBe(true));
    expect(exited).toBe(false);
    fs.writeFileSync(release, '');
    const r = await runLong;
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe('done\n');
    expect(r.trace).toHaveLength(2);
    expect(r.trace[0]).toMatch(/^miss /);
    expect(r.trace[1]).toMatch(/^written .*-realize\.bin$/);
  });

  it('a realize that builds writes the cache once it knows it has work, before its builder runs', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    const codeCacheDir = path.join(cacheHome, 'slime', 'code-cache');
    // The builder says whether the realize cache was there when it started: taken once the
    // run knew it had work, it is; taken after the run's first second (as it was), only a
    // start that took longer than that could have seen it.
    const mod = jsModule(
      dir,
      'look.mjs',
      `const look = derivation({ name: 'look', builder: '/bin/sh', args: ['-c', 'set -- ${codeCacheDir}/*-realize.bin; if [ -e "$1" ]; then echo there > $out; else echo missing > $out; fi'] });
export const targets = [target('look', 'looks for the code cache', [look])];
`,
    );
    const r = await run(bin, ['realize', 'look', '-f', mod, '--store', path.join(dir, 'store'), '--no-link', '--no-sandbox'], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe('there\n');
    expect(r.trace).toEqual([expect.stringMatching(/^miss .*-realize\.bin$/), expect.stringMatching(/^written .*-realize\.bin$/)]);
    expect(r.moments).toEqual(['as its start-up ended']);
    // A no-op afterwards uses it, and writes nothing: it was not rejected.
    const again = await run(bin, ['realize', 'look', '-f', mod, '--store', path.join(dir, 'store'), '--no-link', '--no-sandbox'], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.trace).toEqual([expect.stringMatching(/^hit .*-realize\.bin$/)]);
  });

  it("draws the TUI with the bundle's own Ink (ink.js, through its own code cache: Ink is not even installed), and with node_modules' Ink when React is to run in development", async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    // node_modules as installed, but for Ink.
    fs.rmSync(path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
      if (name !== 'ink') fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name));
    }
    const mod = helloModule(dir);
    const args = ['realize', 'hello', '-f', mod, '--store', path.join(dir, 'store'), '--no-link', '--log-format', 'tui', '--no-sandbox'];
    // NODE_ENV unset, as a user runs it (vitest sets it to "test"): slime runs React in production.
    const tui = await run(bin, args, { cwd: dir, env: { XDG_CACHE_HOME: cacheHome, NODE_ENV: undefined } });
    expect(tui.code, tui.stderr).toBe(0);
    expect(tui.stdout + tui.stderr).toMatch(/1 built/);
    expect(tui.trace.filter((t) => t.endsWith('-ink.bin'))).toEqual([expect.stringMatching(/^miss /), expect.stringMatching(/^written /)]);
    // The next TUI compiles Ink from the code cache that run wrote; DEV=true (Ink's React
    // devtools, for node_modules' Ink) changes nothing in the bundle's.
    const again = await run(bin, args, { cwd: dir, env: { XDG_CACHE_HOME: cacheHome, NODE_ENV: undefined, DEV: 'true' } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/1 cached/);
    expect(again.trace.filter((t) => t.endsWith('-ink.bin'))).toEqual([expect.stringMatching(/^hit /)]);
    // Asked for React's development build, the launcher imports Ink from node_modules: here, none.
    const dev = await run(bin, args, { cwd: dir, env: { XDG_CACHE_HOME: cacheHome, NODE_ENV: 'development' } });
    expect(dev.code).toBe(1);
    expect(dev.stderr).toMatch(/^error: Ink, which the TUI draws with, is neither in slime's bundle \(.*ink\.js, used when NODE_ENV is production, here development\) nor in node_modules; run `npm ci && npm run build` in slime's directory, or use --log-format plain, which needs no Ink$/m);
    expect(dev.stderr).not.toMatch(/\n\s+at /);
    // A damaged ink.js is said to be one, and how to make it again.
    fs.writeFileSync(path.join(dir, 'dist', 'bin', 'ink.js'), 'garbage(');
    const damaged = await run(bin, args, { cwd: dir, env: { XDG_CACHE_HOME: cacheHome, NODE_ENV: undefined } });
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/^error: slime's Ink bundle .*ink\.js cannot be compiled \(Unexpected end of input\); run `npm run build` in slime's directory$/m);
    expect(damaged.stderr).not.toMatch(/\n\s+at /);
    fs.symlinkSync(path.join(ROOT, 'node_modules', 'ink'), path.join(dir, 'node_modules', 'ink'));
    const devInk = await run(bin, args, { cwd: dir, env: { XDG_CACHE_HOME: cacheHome, NODE_ENV: 'development' } });
    expect(devInk.code, devInk.stderr).toBe(0);
    expect(devInk.stdout + devInk.stderr).toMatch(/1 cached/);
  });

  it('runs what is loaded on demand from the bundle, cached or not: a JavaScript module, the scheduler and store, the TUI with Ink', async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    // A plain JavaScript module: the bundle imports it with import() (no tsx).
    const mod = helloModule(dir);
    const store = path.join(dir, 'store');
    for (const round of ['uncached', 'cached']) {
      const env = { XDG_CACHE_HOME: cacheHome, SLIME_EVAL_CACHE: '0' };
      const plain = await run(bin, ['realize', 'hello', '-f', mod, '--store', store, '--no-link', '--log-format', 'plain', '--no-sandbox'], { cwd: dir, env });
      expect(plain.code, `${round}: ${plain.stderr}`).toBe(0);
      const out = plain.stdout.trim();
      expect(fs.readFileSync(out, 'utf8')).toBe('hello\n');
      expect(plain.trace[0]).toMatch(round === 'uncached' ? /^miss / : /^hit /);
      // The TUI: Ink is an ES module with top-level await, which the bundle gets through the launcher.
      const tui = await run(bin, ['realize', 'hello', '-f', mod, '--store', store, '--no-link', '--log-format', 'tui', '--no-sandbox'], { cwd: dir, env });
      expect(tui.code, `${round}: ${tui.stderr}`).toBe(0);
      expect(tui.stdout + tui.stderr).toMatch(/hello/);
      expect(tui.stdout + tui.stderr).toMatch(/1 cached/);
    }
  });

  it("loads node:crypto and node:stream on first use only: a build hashes and reads its builder's output through them, a no-op of a cached plan (one with a source() directory) loads neither, nor Node's performance timing when it says its phases, nor node:fs/promises for the comparison's report, and once its validity memo is kept it opens no database", async () => {
    const { bin, cacheHome, dir } = bundleCopy();
    // With a source() directory, which the evaluation cache stamps on every run (as the project's samples and patches).
    fs.mkdirSync(path.join(dir, 'data', 'nested'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'nested', 'a.txt'), 'aaaa\n');
    const mod = path.join(dir, 'mod.mjs');
    fs.writeFileSync(
      mod,
      `import { derivation, source, target } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'derivation', 'api.js'))};
const hello = derivation({ name: 'hello', builder: '/bin/sh', args: ['-c', 'echo hello > $out'], env: { data: source(import.meta.url, 'data') } });
const compares = derivation({ name: 'compares', builder: '/bin/sh', args: ['-c', 'mkdir $out; printf %s "$report" > $out/report.json'], env: { report: ${JSON.stringify(REPORT)} }, tools: ['mkdir', 'printf'], comparesSamples: true });
export const targets = [target('hello', 'says hello', [hello, compares])];
`,
    );
    const store = path.join(dir, 'store');
    // Node's own list of the builtins this process loaded, written when it exits.
    const loaded = path.join(dir, 'loaded.txt');
    const preload = path.join(dir, 'list-loaded.cjs');
    fs.writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));\n`);
    const realize = async (link = false) => {
      const r = await run(bin, ['realize', 'hello', '-f', mod, '--store', store, ...(link ? [] : ['--no-link']), '--log-format', 'plain', '--no-sandbox'], {
        cwd: dir,
        // SLIME_TRACE_PHASES: the benchmark's no-ops are traced, and the trace is to cost them nothing (src/cli/phase-trace.ts).
        env: { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: `--require ${preload}`, SLIME_TRACE_EVAL_CACHE: '1', SLIME_TRACE_PHASES: '1' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(fs.readFileSync(r.stdout.trim().split('\n')[0]!, 'utf8')).toBe('hello\n');
      expect(r.stderr).toMatch(/^phases: start /m);
      // A derivation that compares samples is announced on every run, valid or not.
      expect(r.stderr).toContain('[compares] compared 1/1 bit-exact');
      const modules = fs.readFileSync(loaded, 'utf8').split('\n');
      return {
        stderr: r.stderr,
        crypto: modules.includes('NativeModule crypto'),
        stream: modules.includes('NativeModule stream'),
        perfHooks: modules.includes('NativeModule perf_hooks'),
        fsPromises: modules.includes('NativeModule fs/promises'),
      };
    };
    // SQLite makes its -wal and -shm files beside the database when it is opened, and the
    // last connection removes them: the state directory's mtime moves exactly then.
    const stateDirMtime = () => fs.statSync(path.join(store, '.slime')).mtimeMs;
    const built = await realize();
    expect(built.stderr).toContain('2 built');
    expect(built.crypto).toBe(true);
    expect(built.stream).toBe(true);
    // The database as if written a minute ago: the next run keeps its validity memo.
    settleDatabase(store);
    // Until the evaluation cache holds the plan (an evaluation racing a just-written file is not kept).
    let noop = await realize();
    for (let i = 0; i < 5 && !noop.stderr.includes('eval-cache: hit'); i++) noop = await realize();
    expect(noop.stderr).toContain('eval-cache: hit');
    expect(noop.stderr).toContain('0 built, 2 cached');
    expect(noop.crypto).toBe(false);
    // Its three lines of text went out without Node's streams (src/cli/stdio.ts).
    expect(noop.stream).toBe(false);
    expect(noop.perfHooks).toBe(false);
    expect(noop.fsPromises).toBe(false);
    const before = stateDirMtime();
    expect((await realize()).stderr).toContain('0 built, 2 cached');
    expect(stateDirMtime()).toBe(before);
    // As users run it, linking ./result: the link and its gc root are made, then found right, without a digest.
    for (const round of ['links', 'finds the links right']) {
      const linked = await realize(true);
      expect(linked.stderr, round).toContain('0 built, 2 cached');
      expect(linked.crypto, round).toBe(false);
      const out = fs.realpathSync(path.join(dir, 'result'));
      expect(fs.readFileSync(out, 'utf8')).toBe('hello\n');
      const auto = fs.readdirSync(path.join(store, '.roots', 'auto')).map((n) => fs.readlinkSync(path.join(store, '.roots', 'auto', n)));
      expect(auto.sort()).toEqual([path.join(dir, 'result'), path.join(dir, 'result-2')]);
    }
  });
});
