/** A reader that stops early (`slime targets | head -1`) gets no crash from slime. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, collect, storePaths, tempDir, writeModule } from './support/cli.js';

const MODULE = `const d = (name: string) => derivation({ name, builder: '/bin/sh', args: ['-c', 'echo ' + name + ' > $out'] });
export const targets = Array.from({ length: 40 }, (_, i) => target('t' + i, 'target number ' + i, [d('d' + i)]));\n`;

/** Runs slime with its stdout a pipe whose reading end is already closed: every write fails with EPIPE. */
function withClosedStdout(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.destroy();
  return collect(child);
}

describe('closed output', () => {
  it('targets and realize end normally when stdout is closed: no stack trace, the exit code of the work', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', MODULE);
    const store = path.join(dir, 'store');
    // The build still completes and registers its output: nothing is left half-done.
    const realize = await withClosedStdout(['realize', 't3', '-f', file, '--store', store, '--no-link', '--log-format', 'plain'], dir);
    expect(realize.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(realize.code).toBe(0);
    expect(storePaths(store).some((p) => p.endsWith('-d3'))).toBe(true);
    const targets = await withClosedStdout(['targets', '-f', file, '--store', store], dir);
    expect(targets.stderr).toBe('');
    expect(targets.code).toBe(0);
  });
});
