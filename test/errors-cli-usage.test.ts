/** Usage errors say what was wrong in slime's voice, and suggest what was meant. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closest, distance } from '../src/suggest.js';
import { slime, tempDir, writeModule } from './support/cli.js';

describe('did you mean', () => {
  it('finds the near names and nothing for far ones', () => {
    expect(distance('relaize', 'realize')).toBe(1);
    expect(closest('relize', ['realize', 'graph', 'gc'])).toEqual(['realize']);
    expect(closest('xyzzy', ['realize', 'graph', 'gc'])).toEqual([]);
  });

  it('suggests a command, an option and a target', async () => {
    const cmd = await slime(['relize', 'x']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toBe('error: unknown command "relize" (did you mean "realize"?); run `slime --help` for the list of commands\n');
    const opt = await slime(['realize', '--kep-going', 'x']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe('error: unknown option \'--kep-going\' (did you mean "--keep-going"?); see `slime realize --help`\n');
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `export const targets = [target('full-x86_64', 'x', [derivation({ name: 'x', builder: '/bin/sh', args: ['-c', 'echo > $out'] })])];\n`);
    const target = await slime(['realize', 'full-x86-64', '-f', file, '--store', path.join(dir, 'store')], { cwd: dir });
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('unknown target "full-x86-64" in');
    expect(target.stderr).toContain('(did you mean "full-x86_64"?)');
  });

  it('takes Nix\'s spelling realise, and refuses arguments to targets', async () => {
    const help = await slime(['realise', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: slime realize TARGET/);
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `export const targets = [];\n`);
    const extra = await slime(['targets', 'extra', '-f', file, '--store', path.join(dir, 'store')], { cwd: dir });
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^error: slime targets takes no arguments, not "extra"/);
  });

  it('says which subcommands there are when none is given, and names an unknown one', async () => {
    for (const [args, text] of [
      [['cache'], 'error: slime cache needs a subcommand: push, pull, serve, info or verify (see `slime cache --help`)\n'],
      [['cache', 'fetch'], 'error: unknown subcommand "cache fetch"; use push, pull, serve, info or verify (see `slime cache --help`)\n'],
      [['key'], 'error: slime key needs a subcommand: `slime key generate NAME`\n'],
      [['key', 'make'], 'error: unknown subcommand "key make"; use `slime key generate NAME`\n'],
      [['store'], 'error: slime store needs a subcommand: add-file, path-info or delete (see `slime store --help`)\n'],
      [['store', 'bogus'], 'error: unknown subcommand "store bogus"; use add-file, path-info or delete\n'],
      [['store', 'path-info'], 'error: slime store path-info takes one argument; see `slime store path-info --help`\n'],
    ] as const) {
      const r = await slime([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(text);
    }
  });

  it('gc and verify refuse arguments instead of ignoring them (gc PATH would collect everything else)', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    fs.mkdirSync(store);
    const gc = await slime(['gc', path.join(store, 'x'), '--store', store]);
    expect(gc.code).toBe(2);
    expect(gc.stderr).toBe(`error: slime gc takes no arguments (got ${path.join(store, 'x')}); it deletes every path no root reaches. To delete particular paths, use \`slime store delete PATH...\`\n`);
    const verify = await slime(['verify', 'extra', '--store', store]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toBe('error: slime verify takes no arguments (got extra); it checks every valid path of the store\n');
    expect(fs.readdirSync(store)).toEqual([]);
  });

  it('refuses a key name that is a path, and says to use --dir', async () => {
    const dir = tempDir();
    const r = await slime(['key', 'generate', path.join(dir, 'k')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: key name ${JSON.stringify(path.join(dir, 'k'))} contains "/": NAME is written into the key (NAME:base64), it is not a file path; give the directory with --dir (slime key generate k --dir ${dir})\n`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('cache verify refuses a PATH that is not a store path of the cache', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'nix-cache-info'), 'StoreDir: /work/some-store\n');
    const r = await slime(['cache', 'verify', `file://${dir}`, '/nix/store/abc'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: "/nix/store/abc" is neither a store path of file://${dir} (whose store dir is /work/some-store) nor a 32-character hash part; name a path as /work/some-store/<hash>-<name>\n`);
  });

  it('never capitalises Node\'s parser errors', async () => {
    const r = await slime(['gc', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown option '--bogus'; see `slime gc --help`\n$/);
  });
});
