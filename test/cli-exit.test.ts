/**
 * slime exits as soon as a command is done (src/cli/main.ts, exit()), not when Node's
 * event loop runs dry, but only once what it wrote is out of the process: a pipe holds
 * 64 KiB until its reader reads, and what is still queued in the stream must not be
 * dropped by the exit. A reader that goes away early gets a one-line error, not a crash
 * or an "internal error".
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API, CLI, tempDir } from './support/cli.js';

const work = tempDir('slime-cli-exit-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a shell pipeline; resolves with its stdout, stderr and status. */
function sh(script: string): { stdout: string; stderr: string; code: number } {
  try {
    const stdout = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    return { stdout, stderr: '', code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; status: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.status };
  }
}

describe('slime exits when done, with its output written', () => {
  const tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  // Several MB, far more than a pipe holds: most of it is still queued when the command returns.
  fs.writeFileSync(path.join(tree, 'big'), randomBytes(6 << 20));
  fs.writeFileSync(path.join(tree, 'small'), 'x\n');
  const slime = `${q(process.execPath)} ${q(CLI)}`;

  it('writes every byte to a reader that starts reading only after slime is done', () => {
    const direct = path.join(work, 'direct.nar');
    expect(sh(`${slime} nar dump ${q(tree)} > ${q(direct)}`).code).toBe(0);
    const expected = createHash('sha256').update(fs.readFileSync(direct)).digest('hex');
    expect(fs.statSync(direct).size).toBeGreaterThan(6 << 20);
    // The reader sleeps until slime's side of the pipeline has finished (or given up).
    const r = sh(`${slime} nar dump ${q(tree)} | { sleep 1; sha256sum; }`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[0]).toBe(expected);
  });

  it('says in one line that the reader went away, with exit 1', () => {
    const r = sh(`${slime} nar dump ${q(tree)} 2>${q(path.join(work, 'err'))} | head -c 100 > /dev/null`);
    expect(r.code).toBe(0);
    const err = fs.readFileSync(path.join(work, 'err'), 'utf8');
    expect(err).toMatch(/^error: slime nar: the output pipe was closed before everything was written \(EPIPE\); the reader stopped early\n$/);
    expect(err).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('slime reaps the process that starts builders before it exits', () => {
  it("counts an unsandboxed builder's CPU time as its own children's (GNU time sees it)", () => {
    const dir = path.join(work, 'cpu');
    fs.mkdirSync(dir);
    // The builder spins until the kernel has charged it a full second of CPU (utime + stime
    // of /proc/self/stat, in clock ticks of 1/100 s): a condition, not a clock.
    const spin = 'while :; do read -r s < /proc/self/stat; set -- $s; [ $(( ${14} + ${15} )) -ge 100 ] && break; done; echo spun > $out';
    fs.writeFileSync(
      path.join(dir, 'm.ts'),
      `import { derivation, target } from ${JSON.stringify(API)};\n` +
        `export const targets = [target('t', 'spin', [derivation({ name: 'spin', builder: '/bin/sh', args: ['-c', ${JSON.stringify(spin)}] })])];\n`,
    );
    const store = path.join(dir, 'store');
    const r = sh(`/usr/bin/time -f 'cpu %U %S' ${q(process.execPath)} ${q(CLI)} realize t -f ${q(path.join(dir, 'm.ts'))} --store ${q(store)} --no-sandbox --no-link --timeout 600 --log-format json 2>&1`);
    expect(r.code, r.stdout).toBe(0);
    const [, user, system] = /^cpu ([\d.]+) ([\d.]+)$/m.exec(r.stdout)!;
    // slime's own share is a fraction of a second; the builder's second is there only if
    // the helper that reaped it was reaped by slime before slime exited.
    expect(Number(user) + Number(system)).toBeGreaterThanOrEqual(1);
  });
});
