import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FetchFailedError, fetchFixed, type FetchProgress } from '../src/fetch/fetch-fixed.js';
import type { Mirror } from '../src/fetch/mirror.js';
import { processesWithArg, waitFor } from './support/processes.js';

// GNU hello's upstream tarball as Debian bookworm ships it (source package hello 2.10-3):
// 726 kB, small enough to download on every run.
const hello: Mirror = { aptSource: { package: 'hello', version: '2.10-3', file: 'hello_2.10.orig.tar.gz' } };
const helloSha = Buffer.from('31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b', 'hex');
const helloSize = 725946;

function probe(): { aptGet: boolean; helloSource: boolean } {
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
  } catch {
    return { aptGet: false, helloSource: false };
  }
  try {
    const out = execFileSync('apt-cache', ['showsrc', 'hello'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { aptGet: true, helloSource: /^Version: 2\.10-3$/m.test(out) };
  } catch {
    return { aptGet: true, helloSource: false };
  }
}

const { aptGet, helloSource } = probe();
if (!aptGet) console.warn('SKIPPED: apt-get is not installed, so the apt-source mirror tests cannot run');
else if (!helloSource) {
  console.warn(
    'SKIPPED: apt has no source entry for hello 2.10-3 (no deb-src line, or not bookworm); run `npm run setup` to add one',
  );
}

let dir: string;
let dest: string;
let cacheDir: string;
let workDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slime-fetch-apt-'));
  dest = join(dir, 'out', 'hello_2.10.orig.tar.gz');
  cacheDir = join(dir, 'cache');
  workDir = join(dir, 'work');
  await mkdir(workDir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fetchFixed from an apt-source mirror', () => {
  it.skipIf(!helloSource)(
    'falls back from an unreachable URL to apt-get source, verifies, caches, and reports progress',
    async () => {
      const progress: FetchProgress[] = [];
      const lines: string[] = [];
      const opts = {
        name: 'hello_2.10.orig.tar.gz',
        sha256: helloSha,
        mirrors: [{ url: 'http://nonexistent.invalid/hello-2.10.tar.gz' }, hello],
        dest,
        cacheDir,
        workDir,
        onProgress: (p: FetchProgress) => progress.push(p),
        log: (l: string) => lines.push(l),
      };
      const result = await fetchFixed(opts);
      expect(result).toEqual({ source: 'apt-source hello=2.10-3 (hello_2.10.orig.tar.gz)', fromCache: false });
      const data = await readFile(dest);
      expect(data.length).toBe(helloSize);
      expect(createHash('sha256').update(data).digest().equals(helloSha)).toBe(true);
      expect(progress.at(-1)).toMatchObject({ bytes: helloSize, total: helloSize, source: result.source });
      expect(lines.some((l) => l.includes('nonexistent.invalid') && l.includes('cannot resolve host'))).toBe(true);
      // The .dsc and debian tarball that came along are gone with apt-get's scratch directory.
      expect(await readdir(workDir)).toEqual([]);

      await rm(dest);
      const again = await fetchFixed({ ...opts, mirrors: [hello] });
      expect(again.fromCache).toBe(true);
      expect((await readFile(dest)).equals(data)).toBe(true);
    },
  );

  it.skipIf(!helloSource)('names the files apt-get brought when the wanted one is not among them', async () => {
    const err = await fetchFixed({
      name: 'hello-2.10.tar.gz',
      sha256: helloSha,
      mirrors: [{ aptSource: { package: 'hello', version: '2.10-3', file: 'hello-2.10.tar.gz' } }],
      dest,
      cacheDir,
      workDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    const [tried] = (err as FetchFailedError).tried;
    expect(tried!.mirror).toBe('apt-source hello=2.10-3 (hello-2.10.tar.gz)');
    expect(tried!.error).toContain('apt-get source hello=2.10-3 downloaded ');
    expect(tried!.error).toContain('hello_2.10.orig.tar.gz');
    expect(tried!.error).toContain('but no hello-2.10.tar.gz');
    expect(await readdir(workDir)).toEqual([]);
  });

  it.skipIf(!helloSource)('says which versions exist when the pinned one does not', async () => {
    const err = await fetchFixed({
      name: 'hello_2.10.orig.tar.gz',
      sha256: helloSha,
      mirrors: [{ aptSource: { package: 'hello', version: '0.0-1', file: 'hello_2.10.orig.tar.gz' } }],
      dest,
      cacheDir,
      workDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    const { error } = (err as FetchFailedError).tried[0]!;
    expect(error).toMatch(/^apt-get source hello=0\.0-1 exited with 100: Can not find version '0\.0-1' of package 'hello'/);
    expect(error).toMatch(/; `apt-cache showsrc hello` lists the versions this machine's sources have$/);
  });

  it.skipIf(!helloSource)('kills apt-get when aborted and leaves nothing behind', async () => {
    const controller = new AbortController();
    // Aborted once apt-get runs (not at a time, which a loaded machine may reach before apt-get starts).
    const running = waitFor(() => processesWithArg('hello=2.10-3').length > 0, 120_000, 'apt-get source hello=2.10-3 runs').then(() => controller.abort());
    const err = await fetchFixed({
      name: 'hello_2.10.orig.tar.gz',
      sha256: helloSha,
      mirrors: [hello],
      dest,
      cacheDir,
      workDir,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await running;
    expect((err as Error).name).toBe('AbortError');
    // apt-get (its whole process group) is gone by the time the fetch gives up.
    expect(processesWithArg('hello=2.10-3')).toEqual([]);
    expect(await readdir(workDir)).toEqual([]);
    expect(await readdir(join(dir, 'out'))).toEqual([]);
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it.skipIf(!aptGet)('tells the user to run `npm run setup` when apt has no deb-src entry', async () => {
    // An apt configuration with no sources at all stands in for a machine that was never set up.
    const config = join(dir, 'apt.conf');
    await writeFile(config, 'Dir::Etc::SourceList "/dev/null";\nDir::Etc::SourceParts "/nonexistent";\n');
    const saved = process.env.APT_CONFIG;
    process.env.APT_CONFIG = config;
    try {
      const err = await fetchFixed({
        name: 'hello_2.10.orig.tar.gz',
        sha256: helloSha,
        mirrors: [hello],
        dest,
        cacheDir,
        workDir,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FetchFailedError);
      const message = (err as Error).message;
      expect(message).toContain("apt-source hello=2.10-3 (hello_2.10.orig.tar.gz): apt-get source hello=2.10-3 exited with 100");
      expect(message).toContain("You must put some 'deb-src' URIs in your sources.list");
      expect(message).toContain('run `npm run setup`, which adds one');
    } finally {
      if (saved === undefined) delete process.env.APT_CONFIG;
      else process.env.APT_CONFIG = saved;
    }
  });
});
