/**
 * The samples are only useful to the verify derivation if CPython itself runs each of
 * them the same way every time, and ends the way the manifest says. Each sample runs
 * twice under Debian's python3.11, from the same scratch path and with the runner's
 * environment, and both runs must agree byte for byte.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PYTHON = '/usr/bin/python3.11';
const samplesDir = path.resolve(import.meta.dirname, '..', 'samples');

interface ManifestEntry {
  name: string;
  file: string;
  category: string;
  exercises: string;
  exitCode: number;
  signal?: string;
  args: string[];
}

const manifest = JSON.parse(fs.readFileSync(path.join(samplesDir, 'manifest.json'), 'utf8')) as { samples: ManifestEntry[] };
const samples = manifest.samples;

describe('samples/manifest.json', () => {
  it('lists every program under samples/ exactly once, with unique names', () => {
    const onDisk = fs
      .readdirSync(samplesDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.py'))
      .sort();
    expect(samples.map((s) => s.file).sort()).toEqual(onDisk);
    expect(new Set(samples.map((s) => s.name)).size).toBe(samples.length);
  });

  it('has the PoC categories in their sizes, and the dynload and errors groups', () => {
    const count = (c: string) => samples.filter((s) => s.category === c).length;
    expect({ poc0: count('poc0'), any: count('any'), dynamic: count('dynamic'), realworld: count('realworld') })
      .toEqual({ poc0: 1, any: 5, dynamic: 15, realworld: 20 });
    expect(count('dynload')).toBeGreaterThanOrEqual(10);
    expect(count('errors')).toBeGreaterThanOrEqual(10);
    expect(samples.every((s) => ['poc0', 'any', 'dynamic', 'realworld', 'dynload', 'errors'].includes(s.category))).toBe(true);
  });

  it('describes every sample by the first paragraph of its docstring, with well-formed exit codes and arguments', () => {
    for (const s of samples) {
      const doc = /^"""([\s\S]*?)(?:\n\n|""")/.exec(fs.readFileSync(path.join(samplesDir, s.file), 'utf8'));
      expect(doc, `${s.file} must start with a docstring`).not.toBeNull();
      expect(s.exercises, s.name).toBe(doc![1].split(/\s+/).join(' ').trim());
      expect(s.file.startsWith(`${s.category}/`), s.name).toBe(true);
      expect(Array.isArray(s.args) && s.args.every((a) => typeof a === 'string'), s.name).toBe(true);
      if (s.signal) expect(s.exitCode, s.name).toBe(128 + constants.signals[s.signal as NodeJS.Signals]);
      else expect(s.exitCode >= 0 && s.exitCode <= 255, s.name).toBe(true);
    }
  });
});

describe('every sample under python3.11', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-samples-'));
    fs.cpSync(samplesDir, scratch, { recursive: true });
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const run = (s: ManifestEntry) => {
    const r = spawnSync(PYTHON, [s.file, ...s.args], {
      cwd: scratch,
      env: { PYTHONHASHSEED: '0', LC_ALL: 'C', TZ: 'UTC', PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    if (r.error) throw new Error(`cannot run ${PYTHON} ${s.file}: ${r.error.message}; install python3.11 (npm run setup)`);
    const exitCode = r.signal ? 128 + constants.signals[r.signal] : r.status;
    return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), exitCode, signal: r.signal ?? undefined };
  };

  it.each(samples.map((s) => [s.name, s] as const))('%s is deterministic and exits as the manifest says', (_name, s) => {
    const first = run(s);
    const second = run(s);
    expect(second).toEqual(first);
    expect({ exitCode: first.exitCode, signal: first.signal }, first.stderr).toEqual({ exitCode: s.exitCode, signal: s.signal });
    expect(first.stdout.length + first.stderr.length, 'a sample must print something').toBeGreaterThan(0);
    if (s.exitCode === 0 && s.category !== 'errors') expect(first.stderr, 'unexpected stderr').toBe('');
    if (s.category === 'dynload') expect(first.stdout).toMatch(/^\w+: (built-in|lib-dynload\/\S+\.so)( |$)/m);
  });

  it('prints the PoC 0 line exactly', () => {
    const demo = samples.find((s) => s.category === 'poc0')!;
    expect(run(demo).stdout).toBe('static=100|dynamic=60|sum=160\n');
  });
});
