/**
 * Bundles the CLI into `dist/bin/` (esbuild), the `slime` that package.json's `bin`
 * names: `dist/bin/slime.js`, and one chunk per part loaded on demand (each command,
 * the TUI, the builder, the cache client), all in that one flat directory.
 *
 * Why: Node 20 has no compile cache, and loading ~60 small ES modules (resolving each
 * specifier, reading package.json files on the way, linking) costs a no-op `slime
 * realize` more than the work it does. The bundle loads a handful of files. `tsc`'s
 * `dist/src/` stays as it is (tests import it, and `node dist/src/cli/main.js` runs
 * the same CLI unbundled).
 *
 * The npm dependencies stay outside (node_modules): better-sqlite3 is native, tsx and
 * Ink are loaded only when needed, and the evaluation cache stamps them through the
 * lock file. The bundle defines SLIME_BUNDLE, by which the evaluation cache stamps the
 * bundle's directory as slime's code instead of walking `dist/src/`.
 *
 * Run by `npm run build` after tsc: `node dist/src/setup/bundle.js`.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const OUT = path.join(ROOT, 'dist/bin');

/** Bundled after all: small, ESM, and on the no-op path (the scheduler's queue). */
const BUNDLED_DEPENDENCIES = new Set(['p-queue']);

async function main(): Promise<void> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED_DEPENDENCIES.has(d));
  // Chunks of an older build would stay and be stamped as slime's code: start empty.
  fs.rmSync(OUT, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { slime: 'src/cli/main.ts' },
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    chunkNames: '[name]-[hash]',
    define: { SLIME_BUNDLE: '"1"' },
    logLevel: 'warning',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
  });
  fs.chmodSync(path.join(OUT, 'slime.js'), 0o755);
  await bundlePullWorker();
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
