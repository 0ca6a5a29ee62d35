/** `slime --help` prints each command's summary without loading the command: the copies in main.ts must stay true. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandNames, loadCommand, SUMMARIES } from '../src/cli/main.js';
import { BUNDLE, ROOT } from './support/cli.js';

function run(cli: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: ROOT }, (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }));
  });
}

describe('slime --help summaries', { timeout: 120_000 }, () => {
  it("equal each command module's own summary", async () => {
    for (const name of commandNames()) {
      const command = await loadCommand(name);
      // Every command has its copy: one missing would be loaded by every `slime --help`.
      expect(SUMMARIES[name], name).toBe(command!.summary);
    }
    // The launcher prints them in this order without main.ts: the same as main.ts's own.
    expect(Object.keys(SUMMARIES)).toEqual(commandNames());
  });

  it('the launcher answers --help by itself with the text main.ts prints, and the same exit codes', async () => {
    for (const args of [['--help'], ['-h'], ['help'], []]) {
      const launcher = await run(BUNDLE, args);
      const unbundled = await run(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), args);
      expect(launcher.stdout, args.join(' ')).toBe(unbundled.stdout);
      expect(launcher.stdout).toContain('  realize      build targets and link their outputs as ./result\n');
      expect(launcher.code, args.join(' ')).toBe(unbundled.code);
      expect(launcher.code).toBe(args.length === 0 ? 2 : 0);
    }
  });
});
