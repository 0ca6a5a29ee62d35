/**
 * The node options of the installed `slime` (bin/slime). V8's hash seed: node starts with
 * `--no-rehash-snapshot` (V8 keeps its start-up snapshot's seed rather than drawing one and
 * rehashing: 4-6 ms of every start), except for `slime cache`, whose `serve` answers the
 * network for as long as it runs and keeps Node's random seed. V8's tiers: `slime hash` and
 * `slime nar dump` (one walk over a tree while another thread hashes) run with `--max-opt=1`,
 * no other command does (`slime nar restore`'s NAR parser pays for TurboFan's compile).
 * V8's heap: every command starts its young generation at 8 MB
 * (`--min-semi-space-size=8`), so that a no-op's start is not stopped by scavenges; and the
 * commands that build (`realize`, `check`) start its old generation's limit at 64 MB
 * (`--initial-old-space-size=64`), so that they are not stopped by a full collection every
 * few builds. Seen from inside: a module slime evaluates records its process's
 * `execArgv`; a server's or a blocked dump's own command line is read from /proc.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/processes.js';
import { ROOT, collect, tempDir, writeModule } from './support/cli.js';

const BIN = path.join(ROOT, 'bin/slime');
const FLAG = '--no-rehash-snapshot';
const dir = tempDir('slime-launcher-seed-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', SLIME_EVAL_CACHE: '0' };
  return collect(spawn(BIN, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('bin/slime and node options', () => {
  const module = writeModule(
    dir,
    'argv.ts',
    `export const targets = [target('seed', 'node options', [derivation({ name: 'seed', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { execArgv: process.execArgv.join(' ') } })])];\n`,
  );
  const store = path.join(dir, 'store');

  it('keeps the snapshot seed for a command other than cache, also after --debug', async () => {
    for (const args of [['show', 'seed'], ['--debug', 'show', 'seed']]) {
      const r = await run([...args, '-f', module, '--store', store, '--drv']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`\\("execArgv","[^"]*${FLAG}[^"]*"\\)`));
      expect(r.stdout).not.toContain('--max-opt');
      expect(r.stdout).toMatch(/\("execArgv","[^"]*--min-semi-space-size=8[^"]*"\)/);
      expect(r.stdout).not.toContain('--initial-old-space-size');
    }
  });

  it('starts the old generation at 64 MB for a command that builds, also after --debug', async () => {
    const built = path.join(dir, 'store-realize');
    for (const args of [['realize', 'seed'], ['--debug', 'realize', 'seed']]) {
      const r = await run([...args, '-f', module, '--store', built, '--no-link', '--log-format', 'json']);
      expect(r.code).toBe(0);
      // The module's evaluation recorded realize's own options in the derivation.
      const drv = fs.readdirSync(built).find((f) => f.endsWith('-seed.drv'))!;
      const text = fs.readFileSync(path.join(built, drv), 'utf8');
      expect(text).toMatch(/\("execArgv","[^"]*--initial-old-space-size=64[^"]*"\)/);
      expect(text).toMatch(/\("execArgv","[^"]*--min-semi-space-size=8[^"]*"\)/);
      fs.rmSync(built, { recursive: true, force: true });
    }
  });

  it('leaves Node its random seed for slime cache serve', async () => {
    const cacheDir = path.join(dir, 'cache');
    fs.mkdirSync(cacheDir, { recursive: true });
    const server = spawn(BIN, ['cache', 'serve', cacheDir, '--port', '0'], { cwd: dir, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      // Listening once it prints its URL; bin/slime execs node, so the pid is node's.
      await new Promise<void>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve();
        });
        server.on('exit', (code) => reject(new Error(`slime cache serve exited with ${code}`)));
      });
      const argv = fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
      expect(argv[0]).toBe('node');
      expect(argv.some((a) => a.endsWith('dist/bin/slime.cjs'))).toBe(true);
      expect(argv).not.toContain(FLAG);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('runs slime nar with --max-opt=1 and the snapshot seed', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree, { recursive: true });
    fs.writeFileSync(path.join(tree, 'big'), Buffer.alloc(4 << 20, 1));
    // Its stdout is never read: the dump blocks once the pipe is full, and its pid is node's once bin/slime has exec'd.
    const dump = spawn(BIN, ['nar', 'dump', tree], { cwd: dir, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const argv = () => fs.readFileSync(`/proc/${dump.pid}/cmdline`, 'utf8').split('\0');
      await waitFor(() => argv()[0] === 'node', 60_000, 'bin/slime to exec node');
      expect(argv()).toContain('--max-opt=1');
      expect(argv()).toContain(FLAG);
      expect(argv()).toContain('--min-semi-space-size=8');
      expect(argv()).not.toContain('--initial-old-space-size=64');
    } finally {
      dump.kill('SIGTERM');
    }
  });

  it('runs slime nar restore with TurboFan (no --max-opt), also after --debug', async () => {
    for (const [i, args] of [['nar', 'restore'], ['--debug', 'nar', '--debug', 'restore']].entries()) {
      // Its stdin is never written: the restore waits for the NAR, its pid node's once bin/slime has exec'd.
      const restore = spawn(BIN, [...args, path.join(dir, `restored-${i}`)], { cwd: dir, env: { ...process.env, CI: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
      try {
        const argv = () => fs.readFileSync(`/proc/${restore.pid}/cmdline`, 'utf8').split('\0');
        await waitFor(() => argv()[0] === 'node', 60_000, 'bin/slime to exec node');
        expect(argv()).toContain('restore');
        expect(argv().some((a) => a.startsWith('--max-opt'))).toBe(false);
        expect(argv()).toContain(FLAG);
      } finally {
        restore.kill('SIGTERM');
      }
    }
  });
});
