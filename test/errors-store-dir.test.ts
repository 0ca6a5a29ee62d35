/**
 * A store that cannot be one is a clear error, never a stack or a hang; read-only
 * commands never create a store, and say when it does not exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';

const module = (dir: string) =>
  writeModule(dir, 'm.ts', `export const targets = [target('t', 'x', [derivation({ name: 'x', builder: '/bin/sh', args: ['-c', 'echo > $out'] })])];\n`);

describe('store directory errors', () => {
  it('--store naming a file', async () => {
    const dir = tempDir();
    const r = await slime(['realize', 't', '-f', module(dir), '--store', '/etc/passwd'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: store /etc/passwd is a file, not a directory; pass --store a directory (it is created if it does not exist)\n');
  });

  it('an empty --store is refused; an empty SLIME_STORE counts as unset: neither makes the current directory a store', async () => {
    const dir = tempDir();
    const m = module(dir);
    const before = fs.readdirSync(dir);
    const e = await slime(['realize', 't', '-f', m, '--store', ''], { cwd: dir });
    expect(e.code).toBe(2);
    expect(e.stderr).toBe('error: --store is empty; pass the store directory (it is created if it does not exist)\n');
    expect(fs.readdirSync(dir)).toEqual(before);
    const r = await slime(['realize', 't', '-f', m, '--no-link'], { cwd: dir, env: { SLIME_STORE: '' } });
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([...before, 'store'].sort());
    expect(r.stdout.trim()).toMatch(new RegExp(`^${path.join(dir, 'store')}/[0-9a-z]{32}-x$`));
  });

  it('a writing command whose target is unknown, argument wrong, or that finds no module, leaves no new store behind', async () => {
    const dir = tempDir();
    const m = module(dir);
    const store = path.join(dir, 'new-store');
    for (const cmd of ['realize', 'show', 'check', 'bench']) {
      const r = await slime([cmd, 'no-such-target', '-f', m, '--store', store], { cwd: dir });
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: unknown target "no-such-target"/);
      expect(fs.existsSync(store), cmd).toBe(false);
    }
    fs.writeFileSync(path.join(dir, 's.py'), 'print(1)\n');
    const run = await slime(['run', '--store', store, 's.py'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: no derivation module here/);
    expect(fs.existsSync(store)).toBe(false);
    const pull = await slime(['cache', 'pull', `file://${dir}`, '/etc/passwd', '--store', store], { cwd: dir });
    expect(pull.code).toBe(2);
    expect(pull.stderr).toBe(`error: /etc/passwd is not a path in the store ${store}\n`);
    expect(fs.existsSync(store)).toBe(false);
    // The same realize with a known target makes the store.
    const ok = await slime(['realize', 't', '-f', m, '--store', store, '--no-link'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(new RegExp(`^${store}/[0-9a-z]{32}-x$`));
  });

  it('--store where no directory can be made returns at once (no mkdir loop under /proc)', async () => {
    const dir = tempDir();
    const r = await slime(['realize', 't', '-f', module(dir), '--store', '/proc/nostore'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot create store \/proc\/nostore: mkdir \/proc\/nostore failed \(ENOENT\); pass --store a directory on a writable file system\n$/);
  });

  it('a store under a directory this user cannot write', async () => {
    const dir = tempDir();
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o555 });
    // root writes anywhere: run as nobody where the test runs as root.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) fs.chmodSync(dir, 0o755);
    const file = module(dir);
    const args = ['realize', 't', '-f', file, '--store', path.join(locked, 'store')];
    const r = asNobody ? await runAs('nobody', args, dir) : await slime(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot create store ${locked}/store: ${locked} is not writable by this user; pass --store a directory you can write to\n`);
  });

  it('verify, gc --dry-run, log and targets on a store that does not exist create nothing', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'nothing-here');
    const verify = await slime(['verify', '--store', store], { cwd: dir });
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/^error: store \S+nothing-here does not exist, so there is nothing to verify; /);
    const gc = await slime(['gc', '--dry-run', '--store', store], { cwd: dir });
    expect(gc.code).toBe(1);
    expect(gc.stderr).toMatch(/does not exist, so there is nothing to collect/);
    const log = await slime(['log', 'x', '-f', module(dir), '--store', store], { cwd: dir });
    expect(log.code).toBe(1);
    expect(log.stderr).toMatch(/^error: store \S+nothing-here does not exist, so there is nothing to print; /);
    const targets = await slime(['targets', '-f', module(dir), '--store', store], { cwd: dir });
    expect(targets.code).toBe(0);
    expect(targets.stdout).toMatch(/^t +not yet +not checked +x$/m);
    expect(targets.stderr).toContain('does not exist yet, so no target is realized');
    expect(fs.existsSync(store)).toBe(false);
  });
});

/** The CLI as another user, through `su`, for what root may do and others may not. */
async function runAs(user: string, args: string[], cwd: string) {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('./support/cli.js');
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('su', [user, '-s', '/bin/sh', '-c', `cd '${cwd}' && ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { collect } = await import('./support/cli.js');
  return collect(child);
}
