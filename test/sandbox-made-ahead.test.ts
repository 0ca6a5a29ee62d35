/**
 * The build sandbox made ahead (src/builder/sandbox-setup.ts): the helper makes the
 * next build's sandbox while a build runs. Each build must still get a sandbox of its
 * own, the builder no privilege, and no sandbox, used or made ahead, may outlive slime.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, collect, slime, startSlime, storePaths, tempDir, writeModule } from './support/cli.js';
import { processesWithArg, uniqueSleep, waitFor } from './support/processes.js';

/** Host pids of the processes whose environment holds `entry` (slime's helper and what it forks keep slime's). */
function processesWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

const mark = () => `SLIME_TEST_MARK=${uniqueSleep()}`;

describe('the sandbox made ahead', () => {
  it('is each build\'s own: what a build leaves in /tmp, /dev/shm or its processes is not in the next', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    // Each build lists what it finds, then leaves something of its own; -j 1 and a chain,
    // so the second runs in the sandbox made while the first ran.
    const look = 'mkdir $out; ls -A /tmp /dev/shm > $out/found; ls /proc | grep -c "^[0-9]" > $out/processes; ' +
      'touch /tmp/left /dev/shm/left; ls -A /tmp /dev/shm > $out/after';
    const file = writeModule(dir, 'ahead.ts', `
export const first = derivation({ name: 'first', builder: '/bin/sh', tools: ['ls', 'mkdir', 'touch', 'grep'], args: ['-c', ${JSON.stringify(look)}] });
export const second = derivation({ name: 'second', builder: '/bin/sh', tools: ['ls', 'mkdir', 'touch', 'grep'], args: ['-c', ${JSON.stringify(look)}], env: { first } });
export const targets = [target('chain', 'two builds', [second])];`);
    const r = await slime(['realize', 'chain', '-f', file, '--store', store, '--no-link', '-j', '1'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    for (const suffix of ['-first', '-second']) {
      const out = path.join(store, storePaths(store).find((p) => p.endsWith(suffix))!);
      const read = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');
      // (/tmp holds the way to the store, when the test's temp dir is under /tmp)
      expect(read('found')).not.toMatch(/^left$/m);
      expect(read('found')).toMatch(/^\/dev\/shm:\n\n/);
      // (control) what it left, it saw itself
      expect(read('after').match(/^left$/gm)).toHaveLength(2);
      // its init, its shell, and the ls and grep it ran
      expect(Number(read('processes'))).toBeLessThanOrEqual(4);
    }
  });

  it.each([[[]], [['--no-sandbox']]])('starts builds side by side, each with no descriptor but its stdin, stdout and stderr (%j)', async (extra: string[]) => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    // Two jobs: sandboxes are made ahead while another build runs and while one is
    // handed out (six builds, so both happen several times).
    const file = writeModule(dir, 'fds.ts', `
const all = Array.from({ length: 6 }, (_, i) => derivation({ name: 'fds-' + i, builder: '/bin/sh', tools: ['ls'], args: ['-c', 'ls /proc/self/fd > $out'], env: { i: String(i) } }));
export const targets = [target('fds', 'six builds', all)];`);
    // slime is given a descriptor beyond 0-2 (as make gives its jobserver's pipe), which
    // its own children inherit: no builder may.
    const child = spawn(process.execPath, [CLI, 'realize', 'fds', '-f', file, '--store', store, '--no-link', '-j', '2', ...extra],
      { cwd: dir, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const r = await collect(child);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const outs = r.stdout.trim().split('\n');
    expect(outs).toHaveLength(6);
    // 3 is the directory ls itself opened
    for (const out of outs) expect(fs.readFileSync(out, 'utf8')).toBe('0\n1\n2\n3\n');
  });

  it('runs the builder without capabilities, and it cannot gain any (no_new_privs)', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'caps.ts', `
export const caps = derivation({ name: 'caps', builder: '/bin/sh', tools: ['grep'], args: ['-c', 'grep -E "^(Uid|Gid|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):" /proc/self/status > $out'] });
export const targets = [target('caps', 'its privileges', [caps])];`);
    const r = await slime(['realize', 'caps', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(r.code).toBe(0);
    const status = Object.fromEntries(fs.readFileSync(r.stdout.trim(), 'utf8').trim().split('\n').map((l) => l.split(/:\s+/)));
    expect(status).toEqual({
      Uid: '1000\t1000\t1000\t1000', Gid: '100\t100\t100\t100',
      CapInh: '0000000000000000', CapPrm: '0000000000000000', CapEff: '0000000000000000', CapAmb: '0000000000000000',
      NoNewPrivs: '1',
    });
  });

  it('starts a build in a sandbox made then when the one made ahead for it died meanwhile', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const marker = uniqueSleep();
    // The first build waits for a file the test puts into its build directory; the second
    // needs the first, so it gets the sandbox made ahead while the first waited.
    const file = writeModule(dir, 'died.ts', `
export const first = derivation({ name: 'first', builder: '/bin/sh', tools: ['sleep'],
  args: ['-c', 'while [ ! -e go ]; do sleep 0.05; done; echo first > $out', '${marker}'] });
export const second = derivation({ name: 'second', builder: '/bin/sh', args: ['-c', 'echo second > $out'], env: { first } });
export const targets = [target('died', 'two builds', [second])];`);
    const entry = mark();
    const child = startSlime(['realize', 'died', '-f', file, '--store', store, '--no-link', '-j', '1'], { cwd: dir, env: { SLIME_TEST_MARK: entry.split('=')[1] } });
    const result = collect(child);
    await waitFor(() => processesWithArg(marker).length > 0, 60_000, 'the first builder runs');
    const [builder] = processesWithArg(marker);
    // A process can end between being listed and this read (the first builder's `sleep 0.05`s
    // come and go, with the marked environment): it then has no parent to match.
    const parent = (pid: number | undefined): number | undefined => {
      try {
        return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      } catch {
        return undefined;
      }
    };
    // builder <- its sandbox's init <- the process that made the sandbox <- the helper;
    // the helper's other child is the sandbox made ahead.
    const outer = parent(parent(builder));
    const helper = parent(outer);
    expect(helper, 'the builder, its sandbox and the helper are running').toBeDefined();
    const ahead = () => processesWithEnv(entry).filter((p) => p !== outer && parent(p) === helper);
    await waitFor(() => ahead().length > 0, 60_000, 'the next sandbox is made');
    for (const p of ahead()) process.kill(-p, 'SIGKILL');
    await waitFor(() => ahead().length === 0, 60_000, 'the sandbox made ahead is gone');
    fs.writeFileSync(`/proc/${builder}/cwd/go`, '');
    const r = await result;
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe('second\n');
  });

  it('works for a user who is not root: the same view, as uid 1000 / gid 100', async (ctx) => {
    // As root, slime is run as nobody (util-linux's setpriv); as another user, as that user.
    const asRoot = process.getuid!() === 0;
    if (asRoot && !fs.existsSync('/usr/bin/setpriv')) ctx.skip();
    const dir = tempDir();
    fs.chmodSync(dir, 0o777);
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'user.ts', `
export const input = derivation({ name: 'input', builder: '/bin/sh', args: ['-c', 'echo in > $out'] });
export const who = derivation({ name: 'who', builder: '/bin/sh', tools: ['id', 'hostname', 'ls', 'cat', 'mkdir'],
  args: ['-c', 'mkdir $out; id -u > $out/uid; id -g > $out/gid; hostname > $out/host; ls -A ${store} > $out/store; cat $input > $out/input; ' +
    'if echo x > /usr/x 2>/dev/null; then echo wrote; else echo refused; fi > $out/usr'], env: { input } });
export const targets = [target('who', 'who builds', [who])];`);
    fs.chmodSync(file, 0o644);
    const argv = [process.execPath, CLI, 'realize', 'who', '-f', file, '--store', store, '--no-link', '-j', '2'];
    const user = asRoot ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv;
    const child = spawn(user[0], user.slice(1), { cwd: dir, env: { ...process.env, CI: '1', HOME: dir, XDG_CACHE_HOME: path.join(dir, '.cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await collect(child);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    expect(fs.statSync(out).uid).toBe(asRoot ? 65534 : process.getuid!());
    const read = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');
    expect([read('uid'), read('gid'), read('host'), read('input'), read('usr')]).toEqual(['1000\n', '100\n', 'localhost\n', 'in\n', 'refused\n']);
    const input = storePaths(store).find((p) => p.endsWith('-input'))!;
    expect(read('store').trim().split('\n')).toEqual(['.slime', input]);
  });

  it('ends with slime: after a run nothing of its sandboxes is left, and a killed slime takes them along', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const sleep = uniqueSleep();
    const file = writeModule(dir, 'end.ts', `
export const quick = derivation({ name: 'quick', builder: '/bin/sh', args: ['-c', 'echo > $out'] });
export const slow = derivation({ name: 'slow', builder: '/bin/sh', tools: ['sleep'], args: ['-c', 'sleep ${sleep}; echo > $out'], env: { quick } });
export const targets = [target('quick', 'one build', [quick]), target('slow', 'a build that waits', [slow])];`);
    const done = mark();
    const r = await slime(['realize', 'quick', '-f', file, '--store', store, '--no-link'], { cwd: dir, env: { SLIME_TEST_MARK: done.split('=')[1] } });
    expect(r.code).toBe(0);
    // The helper made the next build's sandbox after this one started; slime's exit ends it.
    await waitFor(() => processesWithEnv(done).length === 0, 60_000, 'the sandbox made ahead ends with slime');

    const killed = mark();
    const child = startSlime(['realize', 'slow', '-f', file, '--store', store, '--no-link'], { cwd: dir, env: { SLIME_TEST_MARK: killed.split('=')[1] } });
    await waitFor(() => processesWithArg(sleep).length > 0, 60_000, 'the slow builder runs');
    // (control) the helper, the running sandbox's two processes and the next one's two
    await waitFor(() => processesWithEnv(killed).length >= 5, 60_000, 'the next sandbox is made');
    child.kill('SIGKILL');
    await waitFor(() => processesWithEnv(killed).length === 0 && processesWithArg(sleep).length === 0, 60_000, 'every sandbox ends with slime');
  });
});
