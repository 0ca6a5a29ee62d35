/**
 * Without the sandbox (`--no-sandbox`), a builder still runs as the init of a PID
 * namespace of its own (src/builder/sandbox.ts): a `setsid` daemon it leaves, which
 * writes into its output through an open file, is gone before the output is
 * registered, as root and as an unprivileged user. The control runs the same build
 * where no PID namespace can be made (user namespaces forbidden, as in a locked-down
 * container): there the daemon outlives the build and writes after registration, which
 * shows that the test sees what it tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, collect, ROOT, slime, tempDir, writeModule, type CliResult } from './support/cli.js';
import { processesWithArg, uniqueSleep, waitFor } from './support/processes.js';

const USER = 'slimetest';

let leftovers: number[] = [];
afterEach(() => {
  // The daemon leads a session (and process group) of its own: the group takes its loop's children too.
  for (const pid of leftovers) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Already gone, or not a group leader (a child forked for one `sleep`).
      }
    }
  }
  leftovers = [];
});

/**
 * A builder that starts a daemon in a session of its own, holding `$out/late` open and
 * appending a line to it every 20 ms forever; the builder ends once the daemon has
 * written its first line. `marker` is one of the daemon's arguments, to find it.
 */
function daemonModule(dir: string, marker: string): string {
  return writeModule(dir, 'daemon.ts', `
export const daemon = derivation({ name: 'daemon', builder: '/bin/sh', tools: ['setsid', 'sleep', 'mkdir', 'sh'],
  args: ['-c', 'mkdir $out; setsid sh -c \\'exec 3>>"$1"; while :; do echo late >&3; sleep 0.02; done\\' sh $out/late ${marker} & ' +
    'until [ -s $out/late ]; do sleep 0.02; done; echo done > $out/main'] });
export const targets = [target('daemon', 'leaves a daemon that writes into its output', [daemon])];`);
}

function readable(dir: string): void {
  // The unprivileged user works in a directory of its own.
  spawnSync('chown', ['-R', `${USER}:${USER}`, dir]);
}

function unprivilegedUser(): boolean {
  if (process.getuid?.() !== 0) return false;
  const made = spawnSync('bash', [path.join(ROOT, 'src/setup/unprivileged-user.sh'), USER], { stdio: 'ignore' });
  return made.status === 0 && spawnSync('runuser', ['-u', USER, '--', 'test', '-r', CLI]).status === 0;
}

function realize(dir: string, file: string, prefix: string[] = []): Promise<CliResult> {
  const args = [process.execPath, CLI, 'realize', 'daemon', '-f', file, '--store', path.join(dir, 'store'), '--no-link', '--no-sandbox'];
  const [cmd, ...rest] = [...prefix, ...args];
  return collect(spawn(cmd, rest, { cwd: dir, env: { ...process.env, CI: '1' } }));
}

async function expectNoDaemonAfter(r: CliResult, dir: string, marker: string): Promise<void> {
  // Looked at the moment slime has exited: no waiting, the daemon must be gone already.
  const left = processesWithArg(marker);
  leftovers.push(...left);
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  expect(left).toEqual([]);
  const out = r.stdout.trim();
  expect(fs.readFileSync(path.join(out, 'main'), 'utf8')).toBe('done\n');
  const verify = await slime(['verify', '--store', path.join(dir, 'store')], { cwd: dir });
  expect(verify.stdout + verify.stderr).toMatch(/0 problems/);
  expect(verify.code).toBe(0);
}

describe('--no-sandbox: the builder in a PID namespace of its own', () => {
  it('ends a setsid daemon that writes into the output before the output is registered', async () => {
    const dir = tempDir();
    const marker = uniqueSleep();
    const r = await realize(dir, daemonModule(dir, marker));
    await expectNoDaemonAfter(r, dir, marker);
  });

  it.runIf(unprivilegedUser())('does the same for an unprivileged user (inside a user namespace)', async () => {
    const dir = tempDir();
    const marker = uniqueSleep();
    const file = daemonModule(dir, marker);
    readable(dir);
    const r = await realize(dir, file, ['runuser', '-u', USER, '--']);
    expect(fs.statSync(r.stdout.trim()).uid).toBe(Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim()));
    await expectNoDaemonAfter(r, dir, marker);
  });

  it('(control) where no PID namespace can be made, the daemon outlives the build and writes after registration', async () => {
    const dir = tempDir();
    const marker = uniqueSleep();
    // A real machine without user namespaces for slime: bwrap forbids creating more, and
    // slime has no capability to make a PID namespace without one.
    const noNamespaces = ['bwrap', '--dev-bind', '/', '/', '--unshare-user', '--disable-userns', '--cap-drop', 'ALL', '--'];
    const r = await realize(dir, daemonModule(dir, marker), noNamespaces);
    const left = processesWithArg(marker);
    leftovers.push(...left);
    expect(r.code).toBe(0);
    // The daemon, and for a moment the child it forks for each `sleep` (same arguments until it execs).
    expect(left.length).toBeGreaterThanOrEqual(1);
    const late = path.join(r.stdout.trim(), 'late');
    const size = fs.statSync(late).size;
    await waitFor(() => fs.statSync(late).size > size, 60_000, 'the daemon writes into the registered output');
    const verify = await slime(['verify', '--store', path.join(dir, 'store')], { cwd: dir });
    expect(verify.code).not.toBe(0);
    expect(verify.stdout + verify.stderr).toContain('-daemon');
  });
});
