/**
 * Process faults around a build, with and without the sandbox: a SIGKILLed slime
 * takes its builder with it (so a process waiting on the lock never runs the same
 * derivation at the same time), SIGHUP and SIGTERM stop builds and leave nothing,
 * and a machine without user namespaces gets one clear line instead of a failed build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDirFor } from '../src/builder/run-builder.js';
import { CLI, collect, sriSha256, startSlime, storePaths, tempDir, treeOf, writeModule } from './support/cli.js';
import { processesWithArg, startLedgerServer, uniqueSleep, waitFor, type LedgerServer } from './support/processes.js';
import { spawn } from 'node:child_process';

let server: LedgerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const modes = [
  ['in the sandbox', []],
  ['without the sandbox', ['--no-sandbox']],
] as const;

describe('process faults', () => {
  it.each(modes)('SIGKILL of the lock holder kills its builder %s; the waiting process then builds it alone', async (_, flags) => {
    // The ledger is the test's TCP server: each builder holds a connection while it
    // runs, and a dead builder's connection closes. Fixed-output, so it may connect.
    const payload = `built ${Math.random()}\n`;
    server = await startLedgerServer();
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'held.ts', `
export const held = derivation({ name: 'held', builder: '/bin/bash', tools: ['cat'],
  args: ['-c', 'exec 3<>/dev/tcp/127.0.0.1/$port; echo hello >&3; cat <&3 > $out'],
  env: { port: '${server.port}' }, outputHash: { hash: '${sriSha256(payload)}', mode: 'flat' } });
export const targets = [target('held', 'runs until the test answers', [held])];`);
    const args = ['realize', 'held', '-f', file, '--store', store, '--no-link', '--log-format', 'json', ...flags];
    const holder = startSlime(args, { cwd: dir });
    const holderDone = collect(holder);
    await waitFor(() => server!.connections.length === 1, 60_000, 'the first builder connects');
    const waiter = startSlime(args, { cwd: dir });
    let waiterLog = '';
    waiter.stderr!.on('data', (d) => (waiterLog += d));
    const waiterDone = collect(waiter);
    await waitFor(() => waiterLog.includes('"type":"lock-wait"'), 60_000, 'the second process waits on the lock');

    holder.kill('SIGKILL');
    expect((await holderDone).code).toBe(null);
    await waitFor(() => server!.connections[0].closed !== undefined, 60_000, 'the first builder dies with its slime');
    await waitFor(() => server!.connections.length === 2, 60_000, 'the second process builds');
    server.answer(payload);
    const r = await waiterDone;
    expect(r.code).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe(payload);
    expect(server.connections[1].opened).toBeGreaterThanOrEqual(server.connections[0].closed!);
    expect(server.maxOpenAtOnce()).toBe(1);
  });

  it.each([
    ['SIGHUP', 129, []],
    ['SIGTERM', 143, []],
    ['SIGHUP', 129, ['--no-sandbox']],
  ] as const)('%s stops the build, exits %i and leaves nothing behind (%j)', async (signal, code, flags) => {
    const marker = uniqueSleep();
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'slow.ts', `
export const slow = derivation({ name: 'slow', builder: '/bin/sh', tools: ['mkdir', 'sleep'],
  args: ['-c', 'mkdir $out; echo partial > $out/part; echo scratch > $TMPDIR/scratch; sleep ${marker}'] });
export const targets = [target('slow', 'never ends by itself', [slow])];`);
    const child = startSlime(['realize', 'slow', '-f', file, '--store', store, '--log-format', 'plain', ...flags], { cwd: dir });
    const done = collect(child);
    await waitFor(() => processesWithArg(marker).length > 0, 60_000, 'the builder runs');
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(`interrupted by ${signal}`);
    expect(processesWithArg(marker)).toEqual([]);
    const drv = storePaths(store).find((p) => p.endsWith('-slow.drv'))!;
    expect(fs.existsSync(buildDirFor(path.join(store, drv)))).toBe(false);
    expect(treeOf(path.join(store, '.slime/tmp'))).toEqual([]);
    expect(storePaths(store)).toEqual([drv]);
  });

  it('says in one line what to do where user namespaces are unavailable, and builds with --no-sandbox', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'plain.ts', `
export const p = derivation({ name: 'plain', builder: '/bin/sh', args: ['-c', 'echo ok > $out'] });
export const targets = [target('p', 'trivial', [p])];`);
    // A real machine without user namespaces for slime: bwrap forbids creating more.
    const noUserns = (extra: string[]) =>
      collect(spawn('bwrap', ['--dev-bind', '/', '/', '--unshare-user', '--disable-userns', '--', process.execPath, CLI,
        'realize', 'p', '-f', file, '--store', store, '--no-link', ...extra], { cwd: dir, env: { ...process.env, CI: '1' } }));
    const r = await noUserns([]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: the build sandbox cannot start here: user namespaces are unavailable \(cannot make the sandbox's namespaces: .+\);.*--no-sandbox/);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
    const without = await noUserns(['--no-sandbox']);
    expect(without.code).toBe(0);
    expect(fs.readFileSync(without.stdout.trim(), 'utf8')).toBe('ok\n');
  });

  it('substitutes where user namespaces are unavailable: what a cache has needs no sandbox; what it lacks gets the one line', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'cached.ts', `
export const c = derivation({ name: 'cached', builder: '/bin/sh', args: ['-c', 'echo from-a-cache > $out'] });
export const other = derivation({ name: 'other', builder: '/bin/sh', args: ['-c', 'echo never-pushed > $out'] });
export const targets = [target('c', 'pushed to the cache', [c]), target('other', 'not in the cache', [other])];`);
    const run = (args: string[]) => collect(spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, CI: '1' } }));
    const built = await run(['realize', 'c', '-f', file, '--store', store, '--no-link', '--no-sandbox']);
    expect(built.code, built.stderr).toBe(0);
    const out = built.stdout.trim();
    expect((await run(['key', 'generate', 'sandboxless-1', '--dir', dir])).code).toBe(0);
    const pub = fs.readFileSync(path.join(dir, 'sandboxless-1.pub'), 'utf8').trim();
    const cache = `file://${path.join(dir, 'cache')}`;
    const pushed = await run(['cache', 'push', cache, out, '--store', store, '--key', path.join(dir, 'sandboxless-1.sec')]);
    expect(pushed.code, pushed.stderr).toBe(0);
    // Nothing links it: gc takes it out of the store again.
    const gc = await run(['gc', '--store', store]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(fs.existsSync(out)).toBe(false);

    const noUserns = (target: string) =>
      collect(spawn('bwrap', ['--dev-bind', '/', '/', '--unshare-user', '--disable-userns', '--', process.execPath, CLI,
        'realize', target, '-f', file, '--store', store, '--no-link', '--log-format', 'plain', '--substituters', cache, '--trusted-public-keys', pub],
        { cwd: dir, env: { ...process.env, CI: '1' } }));
    const substituted = await noUserns('c');
    expect(substituted.code, substituted.stderr).toBe(0);
    expect(substituted.stderr).toContain('[cached] substituted from');
    expect(substituted.stderr).not.toContain('sandbox');
    expect(fs.readFileSync(substituted.stdout.trim(), 'utf8')).toBe('from-a-cache\n');

    // What the cache lacks would be built: the one line, before any build, and nothing built.
    const lacking = await noUserns('other');
    expect(lacking.code).toBe(1);
    const errors = lacking.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^error: the build sandbox cannot start here: user namespaces are unavailable .*--no-sandbox/);
    expect(lacking.stderr).not.toContain('[other] building');
    expect(storePaths(store).filter((p) => p.endsWith('-other'))).toEqual([]);
  });
});
