/** Every command's --help lists its options, in one layout: flags at column 2, descriptions at 24. */
import { describe, expect, it } from 'vitest';
import { layoutHelp } from '../src/cli/help-layout.js';
import { slime } from './support/cli.js';

const COMMANDS = ['realize', 'show', 'graph', 'targets', 'log', 'gc', 'verify', 'store', 'nar', 'hash', 'bench', 'tui', 'check'];

describe('help texts', () => {
  it('lays out option lines whoever wrote them', () => {
    const text = 'Options:\n  --type ALGO   Hash algorithm: sha256.\n  -f, --file FILE    load FILE\n      --no-link   make no links\n                  and more\n\nExit codes: 0';
    expect(layoutHelp(text)).toBe(
      'Options:\n      --type ALGO       hash algorithm: sha256\n  -f, --file FILE       load FILE\n      --no-link         make no links\n                        and more\n\nExit codes: 0',
    );
  });

  it.each(COMMANDS)('slime %s --help has an Options block, aligned, listing what the command takes', async (name) => {
    const r = await slime([name, '--help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const start = lines.indexOf('Options:');
    expect(start).toBeGreaterThan(0);
    const block = lines.slice(start + 1, lines.indexOf('', start));
    expect(block.length).toBeGreaterThan(0);
    for (const line of block) {
      // A flag line (alone when the flags are too long: its text follows at column 24), or a continuation at column 24.
      if (/^ {2}(-[A-Za-z], | {4})--?[a-z][\w-]*( [A-Z]+(=[A-Z]+|\.\.\.)?)?$/.test(line.trimEnd())) continue;
      // An option written with one space before its text would be taken for the line above's continuation.
      expect(line).not.toMatch(/^ {24}-/);
      expect(line).toMatch(/^(  (-[A-Za-z], |    )--?[a-z][\w-]*( [A-Z]+)? +|  -[a-z], --help +| {24})\S/);
      if (/^ {2}\S| {4}--/.test(line) && !/^ {2}-h, --help/.test(line)) expect(line[23]).toBe(' ');
      expect(line.slice(24, 25)).not.toBe(' ');
    }
    expect(r.stdout).not.toMatch(/  --store DIR {8}the store/);
  });
});
