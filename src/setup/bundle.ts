/**
 * Bundles the CLI into `dist/bin/` (esbuild), the `slime` that package.json's `bin`
 * names: two files (and two loaded on demand: `pull-worker.js`, and `ink.js`, below),
 *   `slime.cjs`      the launcher (src/cli/launch.ts): runs the bundle through V8's
 *                    code cache;
 *   `slime-cli.cjs`  the CLI, one CommonJS script (entry src/cli/bin.ts): every
 *                    command, the TUI, the builder, the cache client. A part loaded on
 *                    demand (`await import('./commands/x.js')`) is only initialised
 *                    when it is first used, so a no-op `slime realize` still runs no
 *                    TUI code, and loads neither Ink nor React.
 *
 * Why: Node 20 has no compile cache, and loading ~60 small ES modules (resolving each
 * specifier, reading package.json files on the way, linking) and compiling their
 * functions again costs a no-op `slime realize` more than the work it does. One script
 * is read once, and V8 reuses what it compiled last time (launch.ts). `tsc`'s
 * `dist/src/` stays as it is (tests import it, and `node dist/src/cli/main.js` runs
 * the same CLI unbundled).
 *
 * The npm dependencies stay outside (node_modules), but for the small pure ones on
 * the common paths (BUNDLED_DEPENDENCIES): better-sqlite3 is native, tsx and Ink are
 * loaded only when needed, and the evaluation cache stamps them through the lock file.
 * The bundle defines SLIME_BUNDLE, by which the evaluation cache stamps the bundle's
 * directory as slime's code instead of walking `dist/src/`.
 *
 * What the script form changes, and how the bundle makes up for it:
 *   - `import.meta.url` / `dirname` / `filename`: the bundle's file and directory;
 *   - ASCII only, without comments: read as Latin-1 by the launcher;
 *   - `import(x)`: rewritten to `__slime_import(x)`, which the launcher passes in (a
 *     vm.Script has no dynamic import of its own); the build fails if one is left;
 *   - a static import of an ES-only package becomes `require()`: allowed only for those
 *     in PRELOADED, which the code imports first (src/cli/esm-deps.ts) so that the
 *     launcher's require() returns their namespace; any other fails the build.
 *
 * Run by `npm run build` after tsc: `node dist/src/setup/bundle.js`.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const OUT = path.join(ROOT, 'dist/bin');
const CLI = path.join(OUT, 'slime-cli.cjs');
const LAUNCHER = path.join(OUT, 'slime.cjs');
const INK = path.join(OUT, 'ink.js');

/**
 * Bundled after all: small, pure JavaScript, and on the no-op path (the scheduler's
 * queue, SRI strings, the store's database: better-sqlite3's JavaScript, whose native
 * addon src/store/db.ts passes by its path).
 */
const BUNDLED_DEPENDENCIES = new Set(['p-queue', 'ssri', 'better-sqlite3', 'get-east-asian-width']);
/** ES-only packages the bundle may require(): imported first by src/cli/esm-deps.ts. */
const PRELOADED = new Set(['ink']);

/** The package a bare specifier names (`ink`, `@scope/pkg`, `tsx` of `tsx/esm/api`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Whether require() of the package gets an ES module (its package.json says `"type": "module"` and offers no `require` condition). */
function esOnly(pkg: string): boolean {
  const file = path.join(ROOT, 'node_modules', pkg, 'package.json');
  if (!fs.existsSync(file)) return false;
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { type?: string; exports?: unknown };
  return json.type === 'module' && !JSON.stringify(json.exports ?? {}).includes('"require"');
}

/**
 * Put first in the bundle: `import.meta.url`'s stand-in, and `__slime_builtin(id)`, which
 * the build puts for each of esbuild's `__toESM(require("node:fs"), 1)`: that copies every
 * export of the module as a getter, at each of the ~100 modules that import one, which
 * cost every start ~5 ms; one copy per builtin does the same.
 */
const BANNER = `var __slime_import_meta_url = require("node:url").pathToFileURL(__filename).href;
var __slime_builtins = new Map();
var __slime_builtin = (id) => {
  let m = __slime_builtins.get(id);
  if (m === undefined) __slime_builtins.set(id, (m = __toESM(require(id), 1)));
  return m;
};
var __slime_lazy = (id) => {
  let m;
  return new Proxy({}, { get: (_, name) => (m ??= require(id))[name] });
};`;

/**
 * Builtins the bundle loads on their first use rather than when a module importing them
 * is initialised (the build puts `__slime_lazy(id)`, a proxy, for each `require(id)`):
 * node:crypto is some fifteen of Node's internal modules, ~3 ms of a start, and a no-op
 * hashes nothing. The code only reads their exports (`(0, import_node_crypto.createHash)(...)`).
 */
const LAZY_BUILTINS = ['node:crypto'];

async function main(): Promise<void> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  // `bindings` finds better-sqlite3's addon when src/store/db.ts could not: left as it is.
  const external = [...Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED_DEPENDENCIES.has(d)), 'bindings'];
  // Files of an older build would stay and be stamped as slime's code: start empty.
  fs.rmSync(OUT, { recursive: true, force: true });
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
  } as const;
  // The launcher is CommonJS too: Node starts an ES module entry through its ES loader
  // (resolving, translating, a facade per builtin it imports), some 7 ms more than a
  // CommonJS one on every command (`node e.mjs` vs `node e.cjs`, both empty: 41 vs 34 ms).
  await build({
    ...common,
    entryPoints: [path.join(ROOT, 'src/cli/launch.ts')],
    outfile: LAUNCHER,
    format: 'cjs',
    define: { 'import.meta.dirname': '__dirname' },
  });
  const result = await build({
    ...common,
    entryPoints: [path.join(ROOT, 'src/cli/bin.ts')],
    outfile: CLI,
    format: 'cjs',
    // No comments, less to read and hash at every start; names are kept for stack traces.
    minifyWhitespace: true,
    external,
    metafile: true,
    define: {
      SLIME_BUNDLE: '"1"',
      'import.meta.url': '__slime_import_meta_url',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
    banner: { js: BANNER },
  });
  const required = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.kind === 'require-call').map((i) => i.path));
  const unsafe = [...new Set(required.map(packageOf))].filter((p) => esOnly(p) && !PRELOADED.has(p));
  if (unsafe.length > 0) {
    throw new Error(`${unsafe.join(', ')} ${unsafe.length === 1 ? 'is an ES module' : 'are ES modules'} imported statically: import ${unsafe.length === 1 ? 'it' : 'them'} with await import() instead, or preload ${unsafe.length === 1 ? 'it' : 'them'} (src/cli/esm-deps.ts, PRELOADED)`);
  }
  let code = fs.readFileSync(CLI, 'utf8');
  code = code.replace(/(?<![\w$.])import\(/g, '__slime_import(');
  code = code.replace(/__toESM\(require\("(node:[\w/]+)"\),\s*1\)/g, '__slime_builtin("$1")');
  for (const id of LAZY_BUILTINS) code = code.replaceAll(`require("${id}")`, `__slime_lazy("${id}")`);
  if (code.includes('__toESM(require("node:')) throw new Error(`${CLI}: a __toESM(require("node:...")) was left: the pattern in src/setup/bundle.ts no longer matches esbuild's output`);
  if (/(?<![\w$.])import\.meta\b/.test(code)) throw new Error(`${CLI} still uses import.meta`);
  // The launcher reads the bundle as Latin-1 (a one-byte string, the fastest to read).
  const wide = code.search(/[^\x00-\x7f]/);
  if (wide >= 0) throw new Error(`${CLI} has a character that is not ASCII at offset ${wide} (${JSON.stringify(code.slice(wide - 20, wide + 20))}); esbuild writes ASCII (charset ascii): see what put it there`);
  // A new file renamed into place, never the old one rewritten: the launcher keys its
  // code cache by the bundle file's identity (device, inode, size, times), which a new
  // inode changes even when a rebuild of the same size lands in the same clock tick.
  fs.writeFileSync(`${CLI}.tmp`, code);
  fs.renameSync(`${CLI}.tmp`, CLI);
  fs.chmodSync(LAUNCHER, 0o755);
  await bundlePullWorker();
  await bundleInk();
}

/**
 * Ink and everything it imports but React, as one script beside the CLI, `ink.js`: the
 * launcher compiles it through V8's code cache, as it does the CLI, and runs it for
 * `import('ink')` (src/cli/launch.ts). From node_modules, Node resolved, read and linked
 * Ink's ~150 files and scanned React's CommonJS ones for their exports on every TUI
 * start: `import('ink')` took 798 against 284 ms from one ES module file (11 alternating
 * rounds, load ~2), and that file, compiled afresh each time through Node's ES loader
 * (whose own modules are another ~20 ms to load), still took 208 against 133 ms of CPU
 * for the same import from this script and its code cache (15 alternating rounds,
 * 2026-12-07, load ~2).
 *
 * The script (grammar, as written below):
 *   (async function (require, __slime_import_meta_url, __slime_import) {
 *   "use strict";
 *   <Ink's ES module bundle: no import or export statement>
 *   return { <name>: <binding>, ... };
 *   })
 * How an ES module becomes that: Node's builtins and React, the only modules left
 * outside, are each bundled as a one-line CommonJS module `module.exports =
 * require(id)`, so that esbuild writes no import statement for them and Ink's imports of
 * them become property reads, as everywhere in the CLI's bundle; `import.meta.url` is the
 * second parameter, `import(` the third (as in the CLI's bundle); the one export statement
 * esbuild writes at the end becomes the returned namespace; and the module's top-level
 * awaits (yoga-layout's WebAssembly) are awaits of the async function, in the same order. Strict, as a module is. The build fails if any of that
 * does not hold.
 *
 * React's production build only (`NODE_ENV`, fixed here: with react-reconciler's
 * development build as well the file was 1.53 MB, without it 0.82 MB): the launcher uses
 * the file when NODE_ENV is `production`, as src/cli/esm-deps.ts sets it unless the user
 * set another. React itself stays in node_modules, one instance for the CLI's components
 * and Ink: the launcher passes the require() of the bundle's directory, which resolves
 * `react` to the very file the CLI's require() does.
 */
async function bundleInk(): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['ink'],
    write: false,
    outfile: INK,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'inline',
    // yoga-layout's WebAssembly is inlined as base64, which its loader decodes by
    // fetch()ing the data: URL whenever a global fetch exists, and Node's (undici) is
    // some 100 ms of modules to load; without it the loader decodes the string itself.
    // Nothing else in Ink's files calls fetch.
    define: { 'process.env.NODE_ENV': '"production"', fetch: 'undefined', 'import.meta.url': '__slime_import_meta_url' },
    plugins: [
      {
        // React's devtools, which Ink loads when DEV=true: not with this file. slime does
        // not install them, and Ink, having said so, read its package.json beside its own
        // files, which are not here, and the TUI stopped with an internal error. DEV=true
        // still has Ink's devtools from node_modules, with NODE_ENV=development.
        name: 'ink-devtools-left-out',
        setup(b) {
          b.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) => ({ path: args.path, external: true }));
          b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]utils\.js$/ }, (args) => {
            const text = fs.readFileSync(args.path, 'utf8');
            const dev = "const isDev = () => process.env['DEV'] === 'true';";
            if (!text.includes(dev)) throw new Error(`${args.path} no longer says \`${dev}\`: see src/setup/bundle.ts, ink-devtools-left-out`);
            return { contents: text.replace(dev, 'const isDev = () => false;'), loader: 'js' };
          });
        },
      },
      {
        name: 'builtins-and-react-required',
        setup(b) {
          b.onResolve({ filter: /^(node:.*|react(\/.*)?|[a-z_]+(\/[a-z_]+)?)$/ }, (args) => {
            if (!args.path.startsWith('react') && !isBuiltin(args.path)) return undefined;
            // The one-line module's own require() is the launcher's, outside the bundle.
            return args.namespace === 'slime-required' ? { path: args.path, external: true } : { path: args.path, namespace: 'slime-required' };
          });
          b.onLoad({ filter: /.*/, namespace: 'slime-required' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
        },
      },
    ],
  });
  let code = result.outputFiles[0]!.text;
  const statement = /^(import|export)\b(?!\()/gm;
  const statements = [...code.matchAll(statement)];
  const last = statements.at(-1);
  if (statements.length !== 1 || last?.[1] !== 'export') {
    throw new Error(`${INK}: esbuild wrote ${statements.map((m) => m[1]).join(', ') || 'no'} module statement(s) where one export at the end was expected: see src/setup/bundle.ts, bundleInk`);
  }
  const close = code.indexOf('};', last.index);
  const names = code.slice(last.index + 'export {'.length, close).split(',').map((n) => n.trim()).filter((n) => n !== '');
  const entries = names.map((n) => {
    const m = /^([\w$]+)(?: as ([\w$]+))?$/.exec(n);
    if (m === null) throw new Error(`${INK}: an export esbuild wrote is not \`name\` or \`name as other\`: ${n}`);
    return `${m[2] ?? m[1]}: ${m[1]}`;
  });
  code = `${code.slice(0, last.index)}return { ${entries.join(', ')} };${code.slice(close + 2)}`;
  code = code.replace(/(?<![\w$.])import\(/g, '__slime_import(');
  if (/(?<![\w$.])import\.meta\b/.test(code)) throw new Error(`${INK} still uses import.meta`);
  const wide = code.search(/[^\x00-\x7f]/);
  if (wide >= 0) throw new Error(`${INK} has a character that is not ASCII at offset ${wide}`);
  fs.writeFileSync(INK, `(async function (require, __slime_import_meta_url, __slime_import) {\n"use strict";\n${code}\n})\n`);
}

/**
 * The restore thread of a big substitution (src/cache/pull.ts) loads its module by file
 * name, `pull-worker.js` beside the code that starts it: one self-contained ES module
 * (the NAR restore, nothing else), whatever form the CLI's bundle takes.
 */
async function bundlePullWorker(): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { 'pull-worker': 'src/cache/pull-worker.ts' },
    outdir: OUT,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`error: bundling the CLI into ${OUT} failed: ${(e as Error).message}; run \`npm run build\` again after fixing it\n`);
  process.exitCode = 1;
});
