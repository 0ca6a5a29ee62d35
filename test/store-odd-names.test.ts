/**
 * Names `.` and `..` are valid store path names in Nix; slime builds them and records
 * their durations (in the database, not as files named after the derivation).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';

describe('derivations named . and ..', () => {
  it('build, record their durations, and are cached the next time', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'dots.ts', `
export const one = derivation({ name: '.', builder: '/bin/sh', args: ['-c', 'echo one > $out'] });
export const two = derivation({ name: '..', builder: '/bin/sh', args: ['-c', 'echo two > $out'] });
export const targets = [target('dots', 'odd names', [one, two])];`);
    const store = path.join(dir, 'store');
    const first = await slime(['realize', 'dots', '-f', file, '--store', store, '--no-link', '--log-format', 'json'], { cwd: dir });
    expect(first.code).toBe(0);
    const outs = first.stdout.trim().split('\n');
    expect(outs.map((p) => path.basename(p).slice(33))).toEqual(['.', '..']);
    expect(outs.map((p) => fs.readFileSync(p, 'utf8'))).toEqual(['one\n', 'two\n']);
    const again = await slime(['realize', 'dots', '-f', file, '--store', store, '--no-link', '--log-format', 'json'], { cwd: dir });
    expect(again.code).toBe(0);
    const events = (r: { stderr: string }) => r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(events(again).filter((e) => e.type === 'cached')).toHaveLength(2);
    // The recorded durations are the estimates of the next build (a plan estimates only
    // what it will build): collect the outputs, and build them again.
    expect((await slime(['gc', '--store', store])).code).toBe(0);
    const third = await slime(['realize', 'dots', '-f', file, '--store', store, '--no-link', '--log-format', 'json'], { cwd: dir });
    expect(third.code).toBe(0);
    const planned = events(third).find((e) => e.type === 'planned');
    expect(planned.derivations.map((d: { expectedMs?: number }) => typeof d.expectedMs)).toEqual(['number', 'number']);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 240_000);
});
