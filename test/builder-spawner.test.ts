/**
 * The helper that starts builders (src/builder/spawner.ts): a real perl process,
 * real children. Output, exit status, start failures, extra descriptors, the exact
 * environment, and output bigger than any pipe buffer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnProcess, type FileDescriptor, type SpawnedProcess } from '../src/builder/spawner.js';
import { tempDir } from './support/cli.js';
import { waitFor } from './support/processes.js';

const dir = tempDir('slime-spawner-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += chunk;
  return s;
}

async function run(argv: string[], env: Record<string, string> = {}, fds?: FileDescriptor[]) {
  const p: SpawnedProcess = await spawnProcess({ argv, cwd: dir, env, fds });
  const [stdout, stderr, status] = await Promise.all([text(p.stdout), text(p.stderr), p.exited]);
  return { pid: p.pid, stdout, stderr, ...status };
}

describe('spawnProcess', () => {
  it('runs argv in cwd with exactly the given environment, stdout and stderr apart, and its exit code', async () => {
    const r = await run(['/bin/sh', '-c', 'pwd; env | sort; echo oops >&2; exit 3'], { A: 'x y', B: 'é=1' });
    expect(r.stdout).toBe(`${dir}\nA=x y\nB=é=1\nPWD=${dir}\n`);
    expect(r.stderr).toBe('oops\n');
    expect(r).toMatchObject({ code: 3, signal: null });
    expect(r.pid).toBeGreaterThan(1);
  });

  it('reports a death by signal with its name, and runs the process in a group of its own', async () => {
    const r = await run(['/bin/sh', '-c', 'ps -o pgid= -p $$; kill -TERM $$']);
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(Number(r.stdout.trim())).toBe(r.pid);
  });

  it('rejects a program that cannot be run, with exec\'s reason, and one with a NUL byte in its environment', async () => {
    await expect(spawnProcess({ argv: [path.join(dir, 'missing')], cwd: dir, env: {} })).rejects.toThrow(/No such file or directory/);
    await expect(spawnProcess({ argv: ['/bin/true'], cwd: path.join(dir, 'gone'), env: {} })).rejects.toThrow(/cannot change to .*gone/);
    await expect(spawnProcess({ argv: ['/bin/true'], cwd: dir, env: { A: 'a\0b' } })).rejects.toThrow(/NUL byte/);
  });

  it('opens extra descriptors on files, to read and to write', async () => {
    fs.writeFileSync(path.join(dir, 'in'), 'from a file\n');
    const r = await run(['/bin/sh', '-c', 'cat <&3; echo to a file >&4'], {}, [
      { fd: 3, mode: 'r', path: path.join(dir, 'in') },
      { fd: 4, mode: 'w', path: path.join(dir, 'out') },
    ]);
    expect(r.stdout).toBe('from a file\n');
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('to a file\n');
  });

  it.skipIf(process.getuid?.() !== 0)('as root, starts a process as the only one of a PID namespace of its own, reporting its exit as the init does', async () => {
    const r = await run(['/bin/sh', '-c', 'echo $$; ls /proc/self/ns/pid >/dev/null; exit 5']);
    const ns = await spawnProcess({ argv: ['/bin/sh', '-c', 'echo $$; readlink /proc/self/ns/pid; kill -TERM $$'], cwd: dir, env: {}, pidNamespace: true });
    const [out, , status] = await Promise.all([text(ns.stdout), text(ns.stderr), ns.exited]);
    const [pid, nsLink] = out.trim().split('\n');
    // The builder is the init's first child; a death by signal N is exit 128 + N, as bwrap reports it.
    expect(pid).toBe('2');
    expect(nsLink).not.toBe(fs.readlinkSync('/proc/self/ns/pid'));
    expect(status).toEqual({ code: 128 + 15, signal: null });
    expect(r.code).toBe(5);
    await expect(spawnProcess({ argv: [path.join(dir, 'missing')], cwd: dir, env: {}, pidNamespace: true })).rejects.toThrow(/No such file or directory/);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, the pid it reports is the namespace\'s init itself, and every start gets a new namespace', async () => {
    const links: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await spawnProcess({ argv: ['/bin/sh', '-c', 'echo $$; readlink /proc/self/ns/pid; exec /bin/sleep 600'], cwd: dir, env: {}, pidNamespace: true });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.resume();
      await waitFor(() => out.split('\n').length > 2, 60_000, 'the builder to say its pid and namespace');
      // pid 1 of the new namespace (NSpid: host pid, then 1): no process between it and the helper.
      const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^NSpid:\\s+${p.pid}\\s+1$`, 'm'));
      process.kill(-p.pid, 'SIGKILL');
      await p.exited;
      const [pid, link] = out.trim().split('\n');
      expect(pid).toBe('2');
      links.push(link);
    }
    // A namespace of its own each time, none of them the helper's (which its next starts are made from).
    expect(new Set(links).size).toBe(3);
    expect(links).not.toContain(fs.readlinkSync('/proc/self/ns/pid'));
  });

  it('passes on output far bigger than a pipe holds, byte for byte, from many processes at once', async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) => run(['/bin/sh', '-c', `head -c 3000000 /dev/zero | tr '\\0' '${i}'; echo done >&2`])),
    );
    runs.forEach((r, i) => {
      expect(r.stdout.length).toBe(3_000_000);
      expect(r.stdout).toBe(String(i + 1).repeat(3_000_000));
      expect(r.stderr).toBe('done\n');
      expect(r.code).toBe(0);
    });
  });
});
