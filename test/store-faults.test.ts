/**
 * Faults: a full disk, hard links to host files, and builds that fail outside the
 * normal path. Each gives a clear error, the right exit code, and leaves nothing: no
 * temporary in the store, no build directory.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

const buildRoot = `/tmp/slime-build-${process.getuid!()}`;
const isRoot = process.getuid?.() === 0;

/** Build directories this test's derivations left (by name). */
const leftBuildDirs = (name: string) => (fs.existsSync(buildRoot) ? fs.readdirSync(buildRoot).filter((e) => e.endsWith(`-${name}`) || e.endsWith(`-${name}.tools`)) : []);

function expectNothingLeft(store: string, name: string): void {
  expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
  expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
  expect(leftBuildDirs(name)).toEqual([]);
}

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
  }
});

describe.skipIf(!isRoot)('a full disk (a 2 MiB tmpfs store)', () => {
  function tmpfsStore(): { dir: string; store: string } {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    fs.mkdirSync(store);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', store]);
    mounts.push(store);
    return { dir, store };
  }

  it('an output that does not fit: clear error, exit 100, nothing left; after freeing space the build succeeds', async () => {
    const { dir, store } = tmpfsStore();
    const file = writeModule(dir, 'big.ts', `
export const big = derivation({ name: 'big', builder: '/bin/sh', tools: ['head', 'mkdir'],
  args: ['-c', 'mkdir $out; head -c 1200000 /dev/zero > $out/blob'] });
export const targets = [target('big', 'one MB', [big])];`);
    const args = ['realize', 'big', '-f', file, '--store', store, '--no-link'];
    // Fill the disk so that 1.2 MB no longer fits.
    expect((await slime(['verify', '--store', store])).code).toBe(0);
    const filler = path.join(store, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(1024 * 1024));
    const full = await slime(args, { cwd: dir });
    expect(full.code).toBe(100);
    // Either the output or the log (the builder complains on stderr) hits the full disk first.
    expect(full.stderr).toMatch(
      /error: big failed: (builder exited with code 1; the store's file system \(\S+\) is full \(\d+ bytes free\) after the outputs reached \d+ bytes|cannot write the build log \S+big\.drv\.log after \d+ bytes: ENOSPC \(the disk is full)/,
    );
    expect(full.stderr).not.toMatch(/internal error in slime|^\s+at /m);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv') && p !== 'filler')).toEqual([]);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
    expect(leftBuildDirs('big')).toEqual([]);

    fs.rmSync(filler);
    const freed = await slime(args, { cwd: dir });
    expect(freed.code).toBe(0);
    expect(fs.statSync(path.join(freed.stdout.trim(), 'blob')).size).toBe(1200000);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);

  it('a build log that does not fit: names the log and how much was written, exit 100, nothing left', async () => {
    const { dir, store } = tmpfsStore();
    const file = writeModule(dir, 'chatty.ts', `
export const chatty = derivation({ name: 'chatty', builder: '/bin/sh', tools: ['head', 'od', 'mkdir'],
  args: ['-c', 'head -c 3000000 /dev/zero | od -v; mkdir $out'] });
export const targets = [target('chatty', 'prints a lot', [chatty])];`);
    const r = await slime(['realize', 'chatty', '-f', file, '--store', store, '--no-link', '--log-format', 'plain'], { cwd: dir });
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/cannot write the build log \S+chatty\.drv\.log after \d+ bytes: ENOSPC \(the disk is full/);
    expect(r.stderr).not.toMatch(/internal error in slime|^\s+at /m);
    expectNothingLeft(store, 'chatty');
    fs.rmSync(path.join(store, '.slime/logs'), { recursive: true, force: true });
  }, 240_000);
});

describe('canonicalisation and hard links', () => {
  it('a hard link to a host file is copied: the host file keeps its mode and times', async () => {
    const dir = tempDir();
    const host = path.join(dir, 'host-file');
    fs.writeFileSync(host, 'host data\n');
    fs.chmodSync(host, 0o664);
    const before = fs.statSync(host);
    const file = writeModule(dir, 'link.ts', `
export const linked = derivation({ name: 'linked', builder: '/bin/sh', tools: ['ln', 'mkdir'],
  args: ['-c', 'mkdir $out; ln ${host} $out/x'] });
export const targets = [target('linked', 'hard-links a host file', [linked])];`);
    const store = path.join(dir, 'store');
    // In the build sandbox the host file is not even there to link to.
    const sandboxed = await slime(['realize', 'linked', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(sandboxed.code).toBe(100);
    const r = await slime(['realize', 'linked', '-f', file, '--store', store, '--no-link', '--no-sandbox'], { cwd: dir });
    expect(r.code).toBe(0);
    const after = fs.statSync(host);
    expect(after.mode).toBe(before.mode);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.nlink).toBe(1);
    const inStore = path.join(r.stdout.trim(), 'x');
    expect(fs.readFileSync(inStore, 'utf8')).toBe('host data\n');
    expect(fs.statSync(inStore).mode & 0o777).toBe(0o444);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);
});

describe('failures outside the normal path leave nothing behind', () => {
  it('a FIFO in $out, a flat fixed-output that is a directory', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'odd.ts', `
export const fifo = derivation({ name: 'fifo', builder: '/bin/sh', tools: ['mkdir', 'mkfifo'], args: ['-c', 'mkdir $out; mkfifo $out/pipe'] });
export const flatdir = derivation({ name: 'flatdir', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir $out'],
  outputHash: { hash: '${'0'.repeat(52)}', mode: 'flat' } });
export const targets = [target('fifo', '', [fifo]), target('flatdir', '', [flatdir])];`);
    const store = path.join(dir, 'store');
    const cases: [string, RegExp][] = [
      ['fifo', /: it is a named pipe, and a NAR holds only regular files, directories and symlinks; remove it from the tree; log: /],
      ['flatdir', /flat fixed-output derivation must be a regular file/],
    ];
    for (const [name, message] of cases) {
      const r = await slime(['realize', name, '-f', file, '--store', store, '--no-link'], { cwd: dir });
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/internal error in slime|^\s+at /m);
      expect(r.code === 100 || r.code === 1, `${name}: exit ${r.code}`).toBe(true);
      expectNothingLeft(store, name);
    }
  }, 240_000);

  it('an env value or arg with a NUL byte is refused where it is declared, and nothing is built', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    for (const [key, spec] of [['env.BAD', "env: { BAD: 'a\\u0000b' }"], ['args[1]', "args: ['-c', 'echo\\u0000 > $out']"]] as const) {
      const file = writeModule(dir, 'nul.ts', `
export const nul = derivation({ name: 'nul', builder: '/bin/sh', ${spec.startsWith('args') ? spec : `args: ['-c', 'echo > $out'], ${spec}`} });
export const targets = [target('nul', '', [nul])];`);
      const r = await slime(['realize', 'nul', '-f', file, '--store', store, '--no-link'], { cwd: dir });
      expect(r.stderr, key).toMatch(new RegExp(`^error: \\S*nul\\.ts(:\\d+:\\d+)?: derivation nul: ${key.replace(/[.[\]]/g, '\\$&')} contains a NUL byte at \\d, which no \\.drv file or process environment can carry; remove it\\n$`));
      expect(r.code, key).toBe(1);
      // Refused while the module is evaluated: no .drv is written, nothing is built.
      expect(storePaths(store), key).toEqual([]);
      expect(leftBuildDirs('nul'), key).toEqual([]);
    }
  }, 240_000);

  it('builds run under /tmp/slime-build-<uid>, private to the user (mode 0700)', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'where.ts', `
export const where = derivation({ name: 'where', builder: '/bin/sh', args: ['-c', 'echo $NIX_BUILD_TOP > $out'] });
export const targets = [target('where', '', [where])];`);
    // Without the sandbox, which shows the builder its directory as /build.
    const r = await slime(['realize', 'where', '-f', file, '--store', path.join(dir, 'store'), '--no-link', '--no-sandbox'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toMatch(new RegExp(`^${buildRoot}/[0-9a-z]{32}-where\\n$`));
    expect(fs.statSync(buildRoot).mode & 0o777).toBe(0o700);
  }, 240_000);
});
