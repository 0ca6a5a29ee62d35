/**
 * Runs a TypeScript derivation module in this process: esbuild bundles the module with
 * the files it imports into one ES module, written to a temporary file, which Node
 * imports as it imports any JavaScript, on this thread.
 *
 * Why not a loader (tsx ran the modules until 2026-12-05): Node runs module loader
 * hooks on a thread of their own, which it starts and the loader initialises before
 * the first import returns; in a CPU profile of `slime show full-x86_64-quick` without
 * the evaluation cache, importing tsx and that thread's start took ~150 ms of the run's
 * ~350. The same command, 21 alternating rounds at idle: 251 ms wall and 340 ms of CPU
 * through tsx, 148 ms and 190 ms bundled (esbuild's own start and bundling ~30 ms).
 *
 * What each file keeps in the bundle:
 *   - its `import.meta.url`, `.dirname` and `.filename`: replaced in its text by its own
 *     (the bundle's would be the temporary file's), as text: also where a string or a
 *     comment spells them;
 *   - its line numbers in stack traces: the bundle carries an inline source map, and
 *     Node's source map support is turned on (process.setSourceMapsEnabled), so an
 *     error thrown by the module names the module's file and line (module-errors.ts);
 *   - its imports: relative ones are bundled (TypeScript, JavaScript, JSON); a package is
 *     imported from the file esbuild resolves it to for the importing file (Node's
 *     conditions), unless that file is TypeScript, which is bundled too; Node's
 *     built-in modules stay imports.
 * Every module runs as an ES module, also a `.ts` file outside a `"type": "module"`
 * package (which tsx ran as CommonJS, without line numbers): `require`, `__dirname` and
 * `module.exports` are not defined in it, as in any ES module.
 *
 * The files a module's evaluation read as code, for the evaluation cache (eval-cache.ts),
 * are the files esbuild read to bundle it (its metafile's inputs): the module, every file
 * it imports, TypeScript packages bundled with it, JSON it imports; not the packages
 * imported from node_modules at run time, nor Node's built-ins. A JavaScript module
 * runs as Node runs it, unbundled; its files are listed by the same build without
 * output (moduleFiles), so that one resolver, esbuild's, says what a module imports.
 * (Until 2026-12-05 a pattern search of import specifiers listed them, beside esbuild's
 * resolution: it missed a TypeScript package, whose change then left a stale plan.)
 */
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { SlimeError } from '../errors.js';

type Esbuild = typeof import('esbuild');

/** esbuild by require(): imported as an ES module, its CommonJS main is first scanned for its exports (~15 ms). */
const esbuild = (): Esbuild => createRequire(import.meta.url)('esbuild') as Esbuild;

const SOURCE = /\.(?:[cm]?tsx?|[cm]?jsx?)$/;
const TYPESCRIPT = /\.[cm]?tsx?$/;
const META = /\bimport\.meta\.(url|dirname|filename)\b/g;
/** Marks esbuild's own resolution of a package, asked from inside the plugin (not to be answered by the plugin again). */
const INNER = Symbol('slime-inner-resolve');

function loaderOf(file: string): 'ts' | 'tsx' | 'js' | 'jsx' {
  if (file.endsWith('.tsx')) return 'tsx';
  if (file.endsWith('.jsx')) return 'jsx';
  return TYPESCRIPT.test(file) ? 'ts' : 'js';
}

const modulePlugin: Plugin = {
  name: 'slime-module',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === INNER || isBuiltin(args.path) || args.path.startsWith('file:')) return undefined;
      const found = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: INNER });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external || TYPESCRIPT.test(found.path)) return { path: found.path, external: found.external };
      return { path: pathToFileURL(found.path).href, external: true };
    });
    build.onLoad({ filter: SOURCE }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      const meta = { url: pathToFileURL(args.path).href, dirname: path.dirname(args.path), filename: args.path };
      return { contents: text.replace(META, (_, key: keyof typeof meta) => JSON.stringify(meta[key])), loader: loaderOf(args.path) };
    });
  },
};

/** A module made runnable: its URL for import(), the files it was made of, and how to remove what making it left. */
export interface RunnableModule {
  url: string;
  /** Absolute paths of the files esbuild read: the module and what it imports (see above); none for a module Node runs as it is. */
  files?: string[];
  remove(): void;
}

/** The build of `abs`, in memory: its one output file and the files it read. */
async function bundleInMemory(abs: string, outfile: string): Promise<{ contents: Uint8Array; files: string[] }> {
  const { build, stop } = esbuild();
  // The working directory, as esbuild's default: its messages name files relative to it
  // (module-errors.ts shows them as they are), and so does the metafile.
  const workingDir = process.cwd();
  try {
    const result = await build({
      entryPoints: [abs],
      absWorkingDir: workingDir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      outfile,
      write: false,
      metafile: true,
      sourcemap: 'inline',
      sourcesContent: false,
      charset: 'utf8',
      logLevel: 'silent',
      plugins: [modulePlugin],
    });
    // The metafile names its inputs relative to absWorkingDir; every one is in the file namespace (modulePlugin makes no other).
    const files = Object.keys(result.metafile!.inputs).map((f) => path.resolve(workingDir, f));
    return { contents: result.outputFiles![0]!.contents, files: [...new Set(files)].sort() };
  } finally {
    stop();
  }
}

/** Rethrows a failed build: esbuild's own failure (a syntax error, an unresolved import) as it is, else one that says what to do. */
function bundleError(e: unknown): Error {
  if (Array.isArray((e as { errors?: unknown }).errors)) return e as Error;
  const why = (e as Error).message.split('\n').find((l) => l.trim() !== '')?.trim() ?? String(e);
  return new SlimeError(`cannot bundle the module: esbuild failed: ${why}; run \`npm run setup\` again (it installs esbuild)`);
}

/**
 * The files of the JavaScript module `abs`: itself and what it imports, as esbuild
 * resolves them (sorted); nothing is written. Rejects as bundleTypeScriptModule does.
 */
export async function moduleFiles(abs: string): Promise<string[]> {
  try {
    return (await bundleInMemory(abs, path.join(path.dirname(abs), 'listing.mjs'))).files;
  } catch (e) {
    throw bundleError(e);
  }
}

/**
 * Bundles the TypeScript module `abs` (and what it imports) into a temporary ES module.
 * A syntax error, or an import that does not resolve, rejects with esbuild's failure
 * (its `errors` carry file, line and column). Called before the module's evaluation
 * watches the environment: esbuild lists it to start its service.
 */
export async function bundleTypeScriptModule(abs: string): Promise<RunnableModule> {
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-module-'));
  } catch (e) {
    throw new SlimeError(`cannot write the module's bundle into ${os.tmpdir()}: ${(e as Error).message}; set TMPDIR to a writable directory`);
  }
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const outfile = path.join(dir, `${path.basename(abs).replace(/\.[^.]*$/, '')}.mjs`);
  let files: string[];
  try {
    const built = await bundleInMemory(abs, outfile);
    fs.writeFileSync(outfile, built.contents);
    files = built.files;
  } catch (e) {
    remove();
    throw bundleError(e);
  }
  // Stack traces through the bundle name the modules' files and lines.
  process.setSourceMapsEnabled(true);
  return { url: pathToFileURL(outfile).href, files, remove };
}
