/**
 * Benchmark: hashPath's memory and speed on a 1 GB tree, next to nix-hash's speed in
 * the same run. Not part of the tests (it writes 200 MB and reads 1 GB).
 *
 *   node dist/bench/nar-memory.js [--keep] [--size-mb N]     (or `npm run bench -- --only nar-memory`)
 *
 * It runs itself again as a child (`--child TREE`) so that the peak RSS it reports
 * belongs to hashPath alone, not to building the tree.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toNixBase32 } from '../src/hash/base32.js';
import { hashPath } from '../src/nar/hash.js';
import type { Benchmark, Figure } from './lib.js';

const MB = 1 << 20;

interface ChildReport {
  baselineRss: number;
  peakRss: number;
  ms: number;
  narSize: number;
  narHash: string;
}

/** In the child: hash the tree and report peak RSS before and after. */
async function child(tree: string): Promise<void> {
  await hashPath(process.argv[1]);
  const baselineRss = process.resourceUsage().maxRSS * 1024;
  const start = performance.now();
  const { narHash, narSize } = await hashPath(tree);
  const report: ChildReport = {
    baselineRss,
    peakRss: process.resourceUsage().maxRSS * 1024,
    ms: performance.now() - start,
    narSize,
    narHash: toNixBase32(narHash),
  };
  process.stdout.write(JSON.stringify(report));
}

/** A tree of `sizeMb`: four fifths in sparse files, one fifth real random data in 100 KiB files. */
function buildTree(sizeMb: number): string {
  const root = mkdtempSync(join(tmpdir(), 'slime-bench-nar-'));
  const tree = join(root, 'tree');
  mkdirSync(tree);
  const sparseMb = Math.floor((sizeMb * 4) / 5);
  for (let i = 0; i < 4; i++) {
    const f = join(tree, `sparse-${i}`);
    writeFileSync(f, '');
    truncateSync(f, Math.floor(sparseMb / 4) * MB);
  }
  const files = Math.floor(((sizeMb - sparseMb) * MB) / (100 * 1024));
  for (let i = 0; i < files; i++) {
    const dir = join(tree, `d${i % 50}`);
    if (i < 50) mkdirSync(dir);
    writeFileSync(join(dir, `f${i}`), randomBytes(100 * 1024));
  }
  return root;
}

function runChild(tree: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--child', tree], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildReport) : reject(new Error(`child exited ${code}`))));
  });
}

/** nix-hash's time and peak RSS, via GNU time when it is there. */
function runNixHash(tree: string): { ms: number; hash: string; peakRss?: number } | undefined {
  const args = ['--type', 'sha256', '--base32', tree];
  const useTime = spawnSync('/usr/bin/time', ['--version'], { stdio: 'ignore' }).status === 0;
  const start = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', 'nix-hash', ...args], { encoding: 'utf8' })
    : spawnSync('nix-hash', args, { encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) return undefined;
  const peakKb = useTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, hash: r.stdout.trim(), peakRss: Number.isFinite(peakKb) ? peakKb * 1024 : undefined };
}

async function bench(sizeMb: number, keep: boolean, log: (line: string) => void): Promise<Figure[]> {
  if (!Number.isInteger(sizeMb) || sizeMb < 10) throw new Error(`--size-mb wants a whole number of at least 10, got ${sizeMb}`);
  log(`building a ${sizeMb} MB tree in ${tmpdir()}...`);
  const root = buildTree(sizeMb);
  try {
    const tree = join(root, 'tree');
    // Read everything once so both tools start from a warm page cache.
    spawnSync('sh', ['-c', `find "${tree}" -type f -exec cat {} + > /dev/null`]);
    const ours = await runChild(tree);
    const nix = runNixHash(tree);
    const growth = (ours.peakRss - ours.baselineRss) / MB;
    log(`hashPath:  ${ours.ms.toFixed(0)} ms, ${(ours.narSize / MB).toFixed(0)} MB NAR, peak RSS ${(ours.peakRss / MB).toFixed(1)} MB (+${growth.toFixed(1)} MB over its baseline)`);
    if (nix === undefined) throw new Error('nix-hash is not installed; run `npm run setup` (Debian nix-bin)');
    const rss = nix.peakRss === undefined ? '' : `, peak RSS ${(nix.peakRss / MB).toFixed(1)} MB`;
    log(`nix-hash:  ${nix.ms.toFixed(0)} ms${rss}`);
    if (nix.hash !== ours.narHash) throw new Error(`HASHES DIFFER: ours ${ours.narHash}, nix ${nix.hash}`);
    return [
      {
        name: `hashPath in-process on a ${sizeMb} MB mostly sparse tree`,
        unit: 'ms',
        slime: ours.ms,
        slimeRssMb: ours.peakRss / MB,
        reference: { label: 'nix-hash', value: nix.ms, rssMb: nix.peakRss === undefined ? undefined : nix.peakRss / MB },
        target: { ratio: 1.1 },
        note: `RSS +${growth.toFixed(1)} MB over its baseline while hashing`,
      },
    ];
  } finally {
    if (keep) log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

export const narMemoryBenchmark: Benchmark = {
  name: 'nar-memory',
  description: "hashPath's speed and peak memory on a 1 GB tree (mostly sparse files), vs nix-hash",
  run: ({ quick, log }) => bench(quick ? 64 : 1024, false, log),
};

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === import.meta.filename;
const childAt = process.argv.indexOf('--child');
if (invokedDirectly && childAt > 0) await child(process.argv[childAt + 1]);
else if (invokedDirectly) {
  const sizeArg = process.argv.indexOf('--size-mb');
  const figures = await bench(sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 1024, process.argv.includes('--keep'), console.log);
  for (const f of figures) console.log(`${f.name}: ${f.slime.toFixed(0)} ms vs ${f.reference?.label} ${f.reference?.value.toFixed(0)} ms`);
}
