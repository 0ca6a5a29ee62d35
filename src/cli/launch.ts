#!/usr/bin/env node
/**
 * `slime` as installed (package.json's bin, `dist/bin/slime.cjs`): runs the CLI bundle
 * `slime-cli.cjs` beside it (src/setup/bundle.ts) through V8's code cache; answers
 * `slime --help` by itself (usage.ts).
 *
 * Why: Node 20 has no compile cache for modules, and compiling the CLI's functions
 * again on every start costs a no-op `slime realize` some 20 ms of a ~100 ms run. A
 * CommonJS bundle compiled with `vm.Script` can reuse what V8 compiled last time
 * (`cachedData`): the code cache of each command is written when a run of it exits
 * (or, when it runs longer, as its start-up ends, `slime realize` saying when, else after
 * its first second), and read by the next run of the same command.
 *
 * The code cache (one file per bundle file, Node version, Node options and command;
 * Ink's script, `ink.js`, has one per Node version and options, named `ink` for the command):
 *   `$XDG_CACHE_HOME/slime/code-cache/` (else `~/.cache/slime/code-cache/`),
 *   `<device>-<inode>-<size>-<mtime ns>-<ctime ns>-<node version>-<arch>[-o<options>]-<command>.bin`
 *   `<options>`: 8 hex digits, FNV-1a of Node's options (its command line's and
 *   NODE_OPTIONS); absent when there are none.
 * Writing a file deletes those unused for 30 days, then the least recently used beyond 64.
 * Keyed by the bundle file's identity, not its content: a build writes a new file (new
 * times, whatever its bytes), and hashing the content meant loading node:crypto on
 * every start (some 2.5 ms of a 70 ms no-op). A changed bundle has another name. V8
 * itself rejects data of another V8 or compiled under other V8 flags (then the file is
 * written again); the options are in the name so that runs with and without a flag
 * (`NODE_OPTIONS=--max-old-space-size=4096` in one shell, not in another) each keep
 * theirs, rather than each rejecting and rewriting the other's (some 28 ms a run).
 * Nothing is written when the directory cannot be made or written. `SLIME_CODE_CACHE=0`
 * turns the cache off; `SLIME_TRACE_CODE_CACHE=1` says on stderr what it did (hit, miss,
 * rejected, written, and when in the run it was taken).
 *
 * The bundle is run as Node runs a CommonJS module, with two more names in scope:
 *   `__slime_import(specifier)`: `import()` (a script compiled by `vm.Script` has no
 *     loader for it of its own); the bundler rewrites every `import(` to it. `ink` is
 *     the bundle's own `ink.js` when React runs in production (src/setup/bundle.ts),
 *     compiled through the code cache too (its files end in `-ink.bin`).
 *   `require(id)`: Node's, except that an ES module imported first with
 *     `__slime_import` is returned as its namespace: how the bundle's static imports of
 *     Ink (ES only, with top-level await, which require() cannot load) work, once
 *     `src/cli/esm-deps.ts` has imported it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { answerUsage } from './usage.js';
import { startHashWorker } from '../nar/hash-worker.js';
import { onStartUpDone } from './start-up-done.js';

// Loaded only to run the bundle: `slime --help` does without them (node:crypto alone
// costs a few ms to load).
const builtin = <T>(id: string): T => process.getBuiltinModule(id) as T;

const BUNDLE = path.join(import.meta.dirname, 'slime-cli.cjs');
/** A run still going after this long has its code cache taken then, not at its exit (runBundle says why). */
const CAPTURE_MS = 1000;
/** Files of the cache not used for this long are deleted when a new one is written. */
const UNUSED_MS = 30 * 24 * 3600 * 1000;
/**
 * At most this many files (~0.3-0.5 MB each) are kept, the least recently used deleted
 * first: every build of the bundle is a new key, and a checkout rebuilt a few dozen times
 * a day left some 100 MB behind within the 30 days. 64 holds every command of a few
 * bundles (installed and checkouts) and Node options.
 */
const MAX_FILES = 64;

// To the descriptor, not process.stderr, which would load Node's streams (cli/stdio.ts).
const trace = process.env.SLIME_TRACE_CODE_CACHE === '1' ? (m: string) => fs.writeSync(2, `code-cache: ${m}\n`) : undefined;

/** A script's bytes (the bundle's or Ink's): ASCII (src/setup/bundle.ts checks), so its text is their Latin-1 reading. */
function readScript(file: string): { bytes: Buffer; identity: string } {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      return { bytes: fs.readFileSync(fd), identity: `${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}` };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    brokenInstall(`slime's CLI bundle ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Says what of slime's own files is missing or damaged, and how to make it again; exits. */
function brokenInstall(what: string, next = "run `npm run build` in slime's directory"): never {
  process.stderr.write(`error: ${what}; ${next}\n`);
  process.exit(1);
}

/** The command's name, for the cache file: each command compiles other functions. */
function commandOf(arg: string | undefined): string {
  if (arg === undefined || arg === '--help' || arg === '-h') return 'help';
  return /^[a-z][a-z-]{0,31}$/.test(arg) ? arg : 'other';
}

/** '' without options, else `-o` and 8 hex digits: 32-bit FNV-1a of them (a collision costs a rejected cache, nothing else). */
function optionsKey(): string {
  const options = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0');
  if (options === '') return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < options.length; i++) h = Math.imul(h ^ options.charCodeAt(i), 0x01000193);
  return `-o${(h >>> 0).toString(16).padStart(8, '0')}`;
}

function cacheDirectory(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || builtin<typeof import('node:os')>('node:os').homedir(), '.cache');
  return path.join(base, 'slime', 'code-cache');
}

function readCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the code cache (a new file, renamed into place: readers never see half of one) and deletes long-unused ones. */
function writeCache(dir: string, file: string, data: Buffer, moment: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    trace?.(`written ${file} (${data.length} bytes, ${moment})`);
    const now = Date.now();
    const kept: { p: string; used: number }[] = [];
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      // The access time is the last hit's (to within a day, under relatime): a hit does not write.
      const used = Math.max(st.atimeMs, st.mtimeMs);
      if (now - used > UNUSED_MS) fs.rmSync(p, { force: true });
      else kept.push({ p, used });
    }
    if (kept.length > MAX_FILES) {
      kept.sort((a, b) => b.used - a.used);
      for (const { p } of kept.slice(MAX_FILES)) if (p !== file) fs.rmSync(p, { force: true });
    }
  } catch (e) {
    trace?.(`not written: ${(e as Error).message}`);
  }
}

/**
 * `file` compiled with its code cache when there is one (`name` ends the cache file's
 * name: the command, or `ink`), and the cache written when there was none or V8 rejected
 * it. `wrap` makes the script's text of the file's. `capture`, when the cache is to be
 * written, takes it at once: the caller's moment, if it knows a better one than these.
 */
function compileCached(
  file: string,
  wrap: (source: string) => string,
  name: string,
  lineOffset: number,
): { script: import('node:vm').Script; capture?: (moment: string) => void } {
  const vm = builtin<typeof import('node:vm')>('node:vm');
  const { bytes, identity } = readScript(file);
  const enabled = process.env.SLIME_CODE_CACHE !== '0';
  const dir = cacheDirectory();
  const key = `${identity}-${process.version}-${process.arch}${optionsKey()}-${name}`;
  const cacheFile = path.join(dir, `${key}.bin`);
  const cached = enabled ? readCache(cacheFile) : undefined;
  const script = new vm.Script(wrap(bytes.toString('latin1')), {
    filename: file,
    lineOffset,
    ...(cached ? { cachedData: cached } : {}),
  });
  if (enabled) {
    trace?.(cached === undefined ? `miss ${cacheFile}` : script.cachedDataRejected ? `rejected ${cacheFile}` : `hit ${cacheFile}`);
    if (cached === undefined || script.cachedDataRejected) {
      // Taken when the run exits, so that the functions it compiled are in it (not after a
      // usage error: a mistyped command), when the command says its start-up is over (`slime
      // realize` once it knows it has work, before any: ./start-up-done.ts), or after
      // CAPTURE_MS of a longer run, whichever comes first. A long run's code at its exit is
      // the wrong cache for the next start: V8 has by then flushed the bytecode of the
      // start-up functions it ran seconds ago and holds the build's instead. A no-op realize
      // of the 1000-derivation graph took 87 ms with the cache a build of that graph wrote at
      // its exit, 77 ms with one written by a no-op, 86 ms with none (25 alternating runs
      // each). A build can flush them within its first second too (start-up-done.ts).
      // Ink's is taken at the exit or after its first second, when it has drawn frames.
      let captured = false;
      const capture = (moment: string): void => {
        if (captured) return;
        captured = true;
        clearTimeout(timer);
        writeCache(dir, cacheFile, script.createCachedData(), moment);
      };
      const timer = setTimeout(() => capture('after its first second'), CAPTURE_MS).unref();
      process.once('exit', (code) => {
        if (code !== 2) capture('at its exit');
      });
      return { script, capture };
    }
  }
  return { script };
}

/** What ink.js is: src/setup/bundle.ts says how it is made. */
type InkScript = (require: NodeJS.Require, importMetaUrl: string, dynamicImport: (specifier: string) => Promise<unknown>) => Promise<unknown>;

/** Compiles the bundle (with the code cache when there is one) and runs it. */
function runBundle(): void {
  // As Node wraps a CommonJS module; the bundle's first line stays line 1 in stack traces.
  const { script, capture } = compileCached(
    BUNDLE,
    (source) => `(function (exports, require, module, __filename, __dirname, __slime_import) {\n${source}\n})`,
    commandOf(process.argv[2]),
    -1,
  );
  if (capture !== undefined) onStartUpDone(() => capture('as its start-up ended'));
  const esModules = new Map<string, unknown>();
  // The launcher's own require: it is in the bundle's directory, so it resolves as the
  // bundle's would (node:module's createRequire loads Node's ES loader with it).
  const nodeRequire = require;
  const bundleRequire = Object.assign((id: string) => (esModules.has(id) ? esModules.get(id) : nodeRequire(id)), {
    resolve: nodeRequire.resolve,
    cache: nodeRequire.cache,
  });
  // Ink as one script beside the bundle, React's production build only (src/setup/bundle.ts),
  // run with the same require(), so that its React is the CLI's.
  const inkFile = path.join(path.dirname(BUNDLE), 'ink.js');
  const bundleImport = async (specifier: string): Promise<unknown> => {
    let namespace: unknown;
    if (specifier === 'ink' && process.env.NODE_ENV === 'production' && fs.existsSync(inkFile)) {
      let ink: InkScript;
      try {
        ink = compileCached(inkFile, (source) => source, 'ink', 0).script.runInThisContext() as InkScript;
      } catch (e) {
        brokenInstall(`slime's Ink bundle ${inkFile} cannot be compiled (${(e as Error).message})`);
      }
      namespace = await ink(nodeRequire, builtin<typeof import('node:url')>('node:url').pathToFileURL(inkFile).href, bundleImport);
    } else {
      try {
        namespace = await import(specifier);
      } catch (e) {
        // Without the bundle's ink.js (or with React in development), Ink comes from node_modules.
        if (specifier === 'ink' && (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
          brokenInstall(
            `Ink, which the TUI draws with, is neither in slime's bundle (${inkFile}${process.env.NODE_ENV === 'production' ? '' : `, used when NODE_ENV is production, here ${process.env.NODE_ENV}`}) nor in node_modules`,
            "run `npm ci && npm run build` in slime's directory, or use --log-format plain, which needs no Ink",
          );
        }
        throw e;
      }
    }
    esModules.set(specifier, namespace);
    return namespace;
  };
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, bundleRequire, module, BUNDLE, path.dirname(BUNDLE), bundleImport);
}

// bin/slime starts node without NODE_EXTRA_CA_CERTS when node's --use-openssl-ca trusts
// the same certificates (it costs Node 20's start some 50 ms); what slime starts gets it back.
if (process.env.SLIME_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.SLIME_NODE_EXTRA_CA_CERTS;
  delete process.env.SLIME_NODE_EXTRA_CA_CERTS;
}

// `slime --help` needs none of the bundle: its text is in usage.ts, bundled into this file.
// process.stdout is read only to answer: Node makes its stream machinery on first read (cli/stdio.ts).
const answered = answerUsage(process.argv.slice(2), process.cwd(), () => process.stdout);
if (answered === undefined) {
  // `slime hash path` hashes a tree on a thread of its own (src/nar/hash-worker.ts): the
  // thread starts while the bundle loads rather than after.
  if (process.argv[2] === 'hash' && process.argv[3] === 'path') startHashWorker();
  runBundle();
} else process.exitCode = answered;
