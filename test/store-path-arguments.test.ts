/** Nix users pass ./result, .drv paths and output paths; slime takes all three. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';

describe('store path arguments', () => {
  it('./result for path-info and log; a .drv without -f; a valid output path', async () => {
    const dir = tempDir();
    const file = writeModule(
      dir,
      'm.ts',
      `const a = derivation({ name: 'a', builder: '/bin/sh', args: ['-c', 'echo from-a; echo a > $out'] });
export const b = derivation({ name: 'b', builder: '/bin/sh', args: ['-c', 'echo building-b; cat $a > $out'], env: { a }, tools: ['cat'] });
export const targets = [target('t', 'x', [b])];\n`,
    );
    const store = path.join(dir, 'store');
    const first = await slime(['realize', 't', '-f', file, '--store', store], { cwd: dir });
    expect(first.code).toBe(0);
    const out = first.stdout.trim();
    expect(fs.realpathSync(path.join(dir, 'result'))).toBe(out);

    const info = await slime(['store', 'path-info', '--json', './result', '--store', store], { cwd: dir });
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout).path).toBe(out);
    // A path inside the output names the output too.
    const inside = await slime(['store', 'path-info', '--json', `${out}/`, '--store', store], { cwd: dir });
    expect(JSON.parse(inside.stdout).path).toBe(out);

    // show: ./result names the derivation that built it, without a module.
    const shown = await slime(['show', './result', '--store', store], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'b', outputs: { out } });
    const stray = `${store}/${'0'.repeat(32)}-b`;
    const noDrv = await slime(['show', stray, '--store', store], { cwd: dir });
    expect(noDrv.code).toBe(1);
    expect(noDrv.stderr).toMatch(/^error: \S+-b has no derivation in the store \S+ \(it is not valid/);

    const log = await slime(['log', './result', '--store', store], { cwd: dir });
    expect(log.code).toBe(0);
    expect(log.stdout).toBe('building-b\n');

    // The .drv alone: no module at all (the default derivations/ does not exist here).
    const drv = fs.readdirSync(store).find((e) => e.endsWith('-b.drv'))!;
    const byDrv = await slime(['realize', path.join(store, drv), '--store', store, '--no-link'], { cwd: dir });
    expect(byDrv.stderr).toContain('0 built, 2 cached');
    expect(byDrv.code).toBe(0);
    expect(byDrv.stdout.trim()).toBe(out);

    const byOutput = await slime(['realize', out, '--store', store, '--no-link'], { cwd: dir });
    expect(byOutput.code).toBe(0);
    expect(byOutput.stdout.trim()).toBe(out);

    const missing = await slime(['realize', './nothing', '--store', store], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: \.\/nothing is neither a target name nor a path in \(or a link into\) the store/);
  });

});
