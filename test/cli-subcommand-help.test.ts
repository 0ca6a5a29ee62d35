/** `slime store add-file --help` describes add-file, not the whole `store` command (issue 8). */
import { describe, expect, it } from 'vitest';
import { slime } from './support/cli.js';

describe('help of a subcommand', () => {
  it('store add-file --help and store path-info -h print their own usage and options', async () => {
    const add = await slime(['store', 'add-file', '--help']);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^Usage: slime store add-file FILE \[--name NAME\] \[options\]\n/);
    expect(add.stdout).toContain("--name NAME       the store name (default: FILE's base name)");
    expect(add.stdout).not.toContain('Subcommands:');
    expect(add.stdout).not.toContain('--json');

    const info = await slime(['store', 'path-info', '-h']);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^Usage: slime store path-info PATH \[--json\] \[options\]\n/);
    expect(info.stdout).toContain('--json            print the metadata as JSON');
    expect(info.stdout).not.toContain('--name');
    // Options in one column, as in every other help.
    for (const text of [add.stdout, info.stdout]) {
      // Where each option's description starts: after the option and at least two spaces.
      const columns = new Set(text.split('\n').filter((l) => /^\s+--/.test(l)).map((l) => l.indexOf(l.trim().split(/\s{2,}/)[1]!)));
      expect(columns.size).toBe(1);
    }
  });

  it('store --help still lists the subcommands, and says how to get one alone', async () => {
    const r = await slime(['store', '--help']);
    expect(r.stdout).toContain('Subcommands:');
    expect(r.stdout).toContain('`slime store SUBCOMMAND --help` describes one subcommand.');
  });
});
