/**
 * What the build sandbox costs a build: N trivial derivations (`echo > $out`, no
 * inputs) realized with and without the sandbox, side by side in alternating rounds
 * on fresh stores, through the real CLI. Reports the wall time of each run, the
 * medians, and the sandbox's extra time per build; the ratio, not the absolute time,
 * is what carries from one machine to another.
 *
 *   npm run build && node dist/bench/sandbox-cost.js [--builds 50] [--rounds 3] [--jobs 1]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API, CLI, numberArg as arg } from './lib.js';

const BUILDS = arg('builds', 50);
const ROUNDS = arg('rounds', 3);
const JOBS = arg('jobs', 1);

/** A module of BUILDS independent trivial derivations; `salt` makes every run's derivations new. */
function writeModule(dir: string, salt: string): string {
  const file = path.join(dir, 'trivial.ts');
  fs.writeFileSync(file, `import { derivation, target } from ${JSON.stringify(API)};
const all = Array.from({ length: ${BUILDS} }, (_, i) =>
  derivation({ name: 'trivial-' + i, builder: '/bin/sh', args: ['-c', 'echo ' + i + ' > $out'], env: { salt: ${JSON.stringify(salt)} } }));
export const targets = [target('all', 'trivial builds', all)];
`);
  return file;
}

function realize(sandbox: boolean, round: number): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-sandbox-cost-'));
  try {
    const file = writeModule(dir, `${sandbox}-${round}-${process.pid}`);
    const args = ['realize', 'all', '-f', file, '--store', path.join(dir, 'store'), '--no-link', '--log-format', 'plain', '-j', String(JOBS)];
    if (!sandbox) args.push('--no-sandbox');
    const started = performance.now();
    const r = spawnSync(CLI, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    const ms = performance.now() - started;
    if (r.status !== 0) throw new Error(`realize (sandbox ${sandbox}) failed with ${r.status}:\n${r.stderr}`);
    return ms;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const times = { sandbox: [] as number[], plain: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so that a machine getting busier does not favour one.
  const order = round % 2 === 0 ? [true, false] : [false, true];
  for (const sandbox of order) (sandbox ? times.sandbox : times.plain).push(realize(sandbox, round));
}
const s = median(times.sandbox);
const p = median(times.plain);
const fmt = (xs: number[]) => xs.map((x) => `${(x / 1000).toFixed(2)} s`).join(', ');
console.log(`${BUILDS} trivial builds, -j ${JOBS}, ${ROUNDS} rounds each (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
console.log(`  without the sandbox: ${fmt(times.plain)}; median ${(p / 1000).toFixed(2)} s`);
console.log(`  in the sandbox:      ${fmt(times.sandbox)}; median ${(s / 1000).toFixed(2)} s`);
console.log(`  sandbox / none: ${(s / p).toFixed(3)}; extra per build: ${((s - p) / BUILDS).toFixed(1)} ms`);
