import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';
import { processesWithArg, uniqueSleep } from './support/processes.js';

describe('the builder', () => {
  it.each([
    ['in the sandbox', [], /^\/build$/, '/tools'],
    ['without the sandbox', ['--no-sandbox'], /^\/tmp\/slime-build-\d+\/[0-9a-z]{32}-dump$/, undefined],
  ])('runs in a clean environment %s: only the derivation env and the fixed variables, PATH of declared tools', async (_, flags, buildTop, toolsPath) => {
    const dir = tempDir();
    const file = writeModule(dir, 'env.ts', `
export const dump = derivation({ name: 'dump', builder: '/bin/sh', tools: ['env', 'sort', 'ls', 'cat', 'mkdir'],
  args: ['-c', 'mkdir $out; env | sort > $out/env; ls $PATH > $out/path; umask > $out/umask; pwd > $out/pwd'],
  env: { GREETING: 'hello' } });
export const targets = [target('dump', 'prints its environment', [dump])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'dump', '-f', file, '--store', store, ...flags], { cwd: dir, env: { LEAKY: 'secret', HOME: '/root' } });
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    const env = Object.fromEntries(
      fs.readFileSync(path.join(out, 'env'), 'utf8').trim().split('\n')
        // slimeHostTools spans several lines; only KEY=value lines start a variable.
        .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env.LEAKY).toBeUndefined();
    expect(env.HOME).toBe('/homeless-shelter');
    expect(env.GREETING).toBe('hello');
    expect(env.SOURCE_DATE_EPOCH).toBe('315532800');
    expect(env.LC_ALL).toBe('C');
    expect(env.TZ).toBe('UTC');
    expect(env.TMPDIR).toMatch(buildTop);
    expect(env.NIX_BUILD_TOP).toBe(env.TMPDIR);
    if (toolsPath) expect(env.PATH).toBe(toolsPath);
    expect(env.out).toBe(out);
    const allowed = new Set(['GREETING', 'name', 'system', 'builder', 'out', 'slimeHostTools', 'PATH', 'HOME', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP',
      'NIX_BUILD_TOP', 'NIX_BUILD_CORES', 'NIX_STORE', 'SOURCE_DATE_EPOCH', 'LC_ALL', 'TZ', 'PWD', 'SHLVL', 'OLDPWD', '_']);
    expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'path'), 'utf8').trim().split('\n').sort()).toEqual(['cat', 'env', 'ls', 'mkdir', 'sh', 'sort']);
    expect(fs.readFileSync(path.join(out, 'umask'), 'utf8').trim()).toBe('0022');
    expect(fs.readFileSync(path.join(out, 'pwd'), 'utf8').trim()).toBe(env.TMPDIR);
  });

  it("writes into the .drv a PATH of the declared tools' directories, for builders that are not slime's; a given PATH is kept", async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'path.ts', `
export const tools = derivation({ name: 'tools', builder: '/bin/sh', tools: ['mkdir', '/usr/sbin/nologin'], args: ['-c', 'mkdir $out'] });
export const given = derivation({ name: 'given', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir $out'], env: { PATH: '/opt/x/bin' } });
export const bare = derivation({ name: 'bare', builder: 'builtin:fetch', outputHash: { hash: 'sha256-mJMOBJh2Xd6EqC8WoAN/6uOI3NHHb+tCHUGhKsm/jEI=', mode: 'flat' }, env: { urls: 'file:///dev/null' } });
export const targets = [target('all', 'three', [tools, given, bare])];`);
    const show = async (name: string) => {
      const r = await slime(['show', name, '-f', file, '--store', path.join(dir, 'store')], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).derivation.env as Record<string, string>;
    };
    const mkdir = path.dirname(fs.realpathSync('/usr/bin/mkdir')) === '/usr/bin' ? '/usr/bin' : '/bin';
    // HOST_TOOL_DIRS' order (/usr/bin before /bin before /usr/sbin), each directory once.
    expect((await show('tools')).PATH).toBe([...new Set([mkdir, '/bin', '/usr/sbin'])].join(':'));
    expect((await show('given')).PATH).toBe('/opt/x/bin');
    expect((await show('bare')).PATH).toBeUndefined();
  });

  it('rewrites the temporary output path inside files to the final store path', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'self.ts', `
export const self = derivation({ name: 'self-ref', builder: '/bin/sh', tools: ['mkdir', 'ln'],
  args: ['-c', 'mkdir -p $out/bin; echo "prefix=$out" > $out/config; ln -s $out/config $out/bin/link'] });
export const targets = [target('self', 'refers to itself', [self])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'self', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    expect(fs.readFileSync(path.join(out, 'config'), 'utf8')).toBe(`prefix=${out}\n`);
    expect(fs.readlinkSync(path.join(out, 'bin/link'))).toBe(`${out}/config`);
    const info = JSON.parse((await slime(['store', 'path-info', '--json', out, '--store', store])).stdout);
    expect(info.references).toEqual([out]);
    expect(info.narHash).toMatch(/^sha256-/);
  });

  it('ends a build that runs past --timeout with exit 101', async () => {
    const dir = tempDir();
    // A sleep no other process has: when slime has ended the build, it is gone, however busy the machine.
    const marker = uniqueSleep();
    const file = writeModule(dir, 'slow.ts', `
export const slow = derivation({ name: 'slow', builder: '/bin/sh', tools: ['sleep'], args: ['-c', 'sleep ${marker}; echo > $out'] });
export const targets = [target('slow', 'never ends', [slow])];`);
    const r = await slime(['realize', 'slow', '-f', file, '--store', path.join(dir, 'store'), '--timeout', '1'], { cwd: dir });
    expect(r.code).toBe(101);
    expect(r.stderr).toContain('timed out after 1.0s');
    // Ended, not waited for: the builder's sleep is gone and no output was kept.
    expect(processesWithArg(marker)).toEqual([]);
    expect(storePaths(path.join(dir, 'store')).filter((p) => !p.endsWith('.drv'))).toEqual([]);
  });

  it('--keep-failed keeps the build directory and says where', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'fail.ts', `
export const f = derivation({ name: 'keeps', builder: '/bin/sh', args: ['-c', 'echo evidence > $TMPDIR/clue; exit 7'] });
export const targets = [target('f', 'fails', [f])];`);
    const r = await slime(['realize', 'f', '-f', file, '--store', path.join(dir, 'store'), '--keep-failed'], { cwd: dir });
    expect(r.code).toBe(100);
    const kept = /build directory kept at (\S+)/.exec(r.stderr)?.[1];
    expect(kept).toBeDefined();
    expect(fs.readFileSync(path.join(kept!, 'clue'), 'utf8')).toBe('evidence\n');
    fs.rmSync(kept!, { recursive: true });
  });

  it('fails a builder that succeeds without creating $out, leaving nothing', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'lazy.ts', `
export const l = derivation({ name: 'lazy', builder: '/bin/sh', args: ['-c', 'true'] });
export const targets = [target('l', 'makes nothing', [l])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'l', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(100);
    expect(r.stderr).toContain("did not create output 'out'");
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
  });
});
