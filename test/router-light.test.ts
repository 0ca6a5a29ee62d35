/**
 * The router with both tiers realized (full-x86_64-quick and light-wasm32-wasmtime, the
 * builds the pipeline tests make in the same project store): the routing table over
 * every sample and the router's blind spots, each run on the tier `slime run` picks and
 * compared with python3.11 (misroutes must be 0), and the adaptive case, where a script
 * the static pass sends to Light is learned to be slow there and goes to Full next time.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, slime, tempDir } from './support/cli.js';

const BUILD_TIMEOUT = 60 * 60_000;
const store = process.env.SLIME_TEST_STORE ?? path.join(ROOT, 'store');
const MODULE = path.join(ROOT, 'derivations/index.ts');
const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', HOME: tempDir('slime-router-home-') };

interface Outcome { code: number | null; stdout: string; stderr: string }

function slimeRun(cwd: string, args: string[]): Promise<Outcome> {
  const child = spawn(process.execPath, [CLI, 'run', '--store', store, '-f', MODULE, '--full', 'full-x86_64-quick', '--light', 'light-wasm32-wasmtime', ...args], {
    cwd, env: { ...ENV, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

let python = '';

describe('slime run: routing between the realized tiers', () => {
  beforeAll(async () => {
    const r = await slime(['realize', 'full-x86_64-quick', 'light-wasm32-wasmtime', '--no-link', '--log-format', 'plain', '--store', store], { cwd: ROOT });
    if (r.code !== 0) throw new Error(`realize failed with ${r.code}:\n${r.stderr.slice(-4000)}`);
    const show = JSON.parse((await slime(['show', 'cpython-quick', '--store', store], { cwd: ROOT })).stdout);
    python = path.join(show.outputs.out, 'bin/python3.11');
  }, BUILD_TIMEOUT);

  it('routes every sample and blind spot with no misroute: what goes to Light prints what python3.11 prints', async () => {
    const work = tempDir('slime-router-table-');
    fs.cpSync(path.join(ROOT, 'samples'), work, { recursive: true });
    fs.cpSync(path.join(ROOT, 'test/fixtures/router'), path.join(work, 'router'), { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(work, 'manifest.json'), 'utf8')) as { samples: { file: string; args: string[] }[] };
    const programs = [
      ...manifest.samples.map((s) => ({ file: s.file, args: s.args })),
      { file: 'router/loop_bound_from_argv.py', args: ['1000'] },
      { file: 'router/deep_recursion.py', args: ['15'] },
      { file: 'router/exception_message.py', args: [] },
      { file: 'router/plain_light.py', args: [] },
    ];
    const table: string[] = [];
    const misroutes: string[] = [];
    const tiers = { full: 0, light: 0, refused: 0 };
    for (const p of programs) {
      const decision = JSON.parse((await slimeRun(work, ['--explain', '--json', p.file])).stdout) as { tier: 'full' | 'light' | 'refused'; reasons: { kind: string; effect: string }[] };
      tiers[decision.tier]++;
      const ran = await slimeRun(work, [p.file, ...p.args]);
      const ref = spawnSync(python, [p.file, ...p.args], { cwd: work, env: { ...ENV, PYTHONHASHSEED: '0' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const refCode = ref.status ?? 128 + (ref.signal === 'SIGINT' ? 2 : 15);
      const same = ran.stdout === ref.stdout && ran.stderr === ref.stderr && ran.code === refCode;
      const why = decision.reasons.filter((r) => r.effect !== 'note').map((r) => r.kind);
      table.push(`${p.file.padEnd(40)} ${decision.tier.padEnd(5)} ${same ? 'same' : 'DIFFERS'}  ${[...new Set(why)].join(',')}`);
      if (decision.tier === 'light' && !same) misroutes.push(`${p.file}: exit ${ran.code} vs ${refCode}\n${ran.stderr.slice(0, 400)}`);
    }
    console.log(`routing table (${programs.length} programs: ${tiers.full} full, ${tiers.light} light, ${tiers.refused} refused)\n${table.join('\n')}`);
    expect(misroutes).toEqual([]);
    expect(tiers.light).toBeGreaterThan(10);
    expect(tiers.full).toBeGreaterThan(10);
  }, BUILD_TIMEOUT);

  it('sends what the Light tier lacks or may print differently to Full, with the reason', async () => {
    const dir = tempDir('slime-router-');
    fs.writeFileSync(path.join(dir, 'uses_ctypes.py'), 'import ctypes\nprint(ctypes.sizeof(ctypes.c_int))\n');
    const missing = JSON.parse((await slimeRun(dir, ['--explain', '--json', 'uses_ctypes.py'])).stdout);
    expect(missing.tier).toBe('full');
    expect(JSON.stringify(missing.reasons)).toMatch(/imports ctypes, which the Light tier does not have/);
    const wasm = await slimeRun(dir, ['--platform', 'wasm', 'uses_ctypes.py']);
    expect(wasm.code).toBe(1);
    expect(wasm.stderr).toMatch(/only the Light tier runs on --platform wasm, and it cannot run this script soundly/);
  }, BUILD_TIMEOUT);

  it('learns: a script sent to Light that ran over the budget goes to Full next time', async () => {
    const dir = tempDir('slime-router-adaptive-');
    const script = path.join(dir, `slow_${process.pid}_${Date.now()}.py`);
    // Profiles are keyed by content: a comment of its own makes this a script never run before.
    fs.writeFileSync(script, fs.readFileSync(path.join(ROOT, 'test/fixtures/router/loop_bound_from_argv.py'), 'utf8') + `# ${path.basename(script)}\n`);
    const name = path.basename(script);
    expect(JSON.parse((await slimeRun(dir, ['--explain', '--json', name])).stdout).tier).toBe('light');
    // 3,000,000 rounds take the Light tier about 0.5 s even on a quiet machine (300,000 once took 85 ms in CI, under the budget).
    const first = await slimeRun(dir, ['--budget-ms', '100', name, '3000000']);
    const second = await slimeRun(dir, ['--budget-ms', '100', name, '3000000']);
    expect(first.stdout).toBe(second.stdout);
    const records = fs.readFileSync(path.join(store, '.slime/runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((r) => path.basename(r.script) === name);
    expect(records.map((r) => r.tier)).toEqual(['light', 'full']);
    expect(records[0].wallMs).toBeGreaterThan(100);
    expect(JSON.stringify(records[1].reasons)).toMatch(/learned: an earlier Light run took \d+ ms, over the 100 ms budget/);
    console.log(`adaptive: first run (light) ${records[0].wallMs} ms, next run (full) ${records[1].wallMs} ms`);
  }, BUILD_TIMEOUT);
});
