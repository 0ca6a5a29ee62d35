/**
 * What a cache has is substituted without its build inputs, as Nix does: `tool` is a
 * build-only input of `top` (top copies what tool made; it does not refer to it). With
 * top in a cache, the run substitutes top at once and never starts tool: tool ends
 * `not-needed` and its output stays out of the store, also when top is realized again
 * without caches (a valid output needs no input). When the cache cannot deliver
 * top after all (a tampered NAR), tool becomes needed: it is built, then top.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';
import { count, events, removeStore } from './support/cache.js';

describe('substitution needs references, not build inputs', () => {
  const dir = tempDir('slime-cache-ahead-');
  const store = path.join(dir, 'store');
  const module = writeModule(
    dir,
    'ahead.ts',
    `export const tool = derivation({ name: 'tool', builder: '/bin/sh', args: ['-c', 'mkdir $out; echo tool > $out/t'], tools: ['mkdir', 'echo'] });
export const top = derivation({ name: 'top', builder: '/bin/sh', args: ['-c', 'mkdir $out; cat $tool/t > $out/copy'], env: { tool } as never, tools: ['mkdir', 'cat'] });
export const targets = [target('ahead', 'top, built with tool', [top])];`,
  );
  let topPath = '';
  let toolPath = '';
  let pub = '';

  /** A cache holding only top (it refers to nothing), uncompressed so a test can tamper with its NAR. */
  async function cacheWithTop(name: string): Promise<string> {
    if (!topPath) {
      const built = await slime(['realize', 'ahead', '-f', module, '--store', store, '--no-link', '--no-substitute', '--log-format', 'json'], { cwd: dir });
      expect(built.code, built.stderr).toBe(0);
      topPath = built.stdout.trim();
      const toolBuilt = events(built).find((e) => e.type === 'built' && String(e.drvPath).endsWith('-tool.drv'));
      toolPath = (toolBuilt!.outputs as Record<string, string>).out!;
      const key = await slime(['key', 'generate', 'ahead-1', '--dir', dir], { cwd: dir });
      pub = key.stdout.trim();
    }
    const cache = path.join(dir, name);
    const push = await slime(['cache', 'push', `file://${cache}`, topPath, '--store', store, '--key', path.join(dir, 'ahead-1.sec'), '--compression', 'none'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    return cache;
  }

  const realize = (cache: string, format = 'json') =>
    slime(['realize', 'ahead', '-f', module, '--store', store, '--no-link', '--no-sandbox', '--log-format', format, '--substituters', `file://${cache}`, '--trusted-public-keys', pub], { cwd: dir });

  it('substitutes top and never starts its build-only input, which ends not-needed', async () => {
    const cache = await cacheWithTop('cache');
    removeStore(store);
    const r = await realize(cache);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    expect(evs.filter((e) => e.type === 'substituted').map((e) => String(e.drvPath).replace(/^.*-/, ''))).toEqual(['top.drv']);
    expect(evs.filter((e) => e.type === 'not-needed').map((e) => String(e.drvPath).replace(/^.*-/, ''))).toEqual(['tool.drv']);
    expect(evs.some((e) => e.type === 'started' && String(e.drvPath).endsWith('-tool.drv'))).toBe(false);
    expect(count(evs, 'built')).toBe(0);
    expect(evs.find((e) => e.type === 'finished')).toMatchObject({ built: 0, substituted: 1, notNeeded: 1 });
    expect(fs.existsSync(toolPath)).toBe(false);
    expect(fs.readFileSync(path.join(topPath, 'copy'), 'utf8')).toBe('tool\n');
    // The target is realized: its own output is valid, whatever became of its build-only input.
    const listed = await slime(['targets', '-f', module, '--store', store], { cwd: dir });
    expect(listed.stdout).toMatch(/^ahead +realized /m);
    // And realizing it again, without caches, does nothing: a valid output needs no input.
    const again = await slime(['realize', 'ahead', '-f', module, '--store', store, '--no-link', '--no-sandbox', '--no-substitute', '--log-format', 'json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(count(events(again), 'started')).toBe(0);
    expect(events(again).find((e) => e.type === 'finished')).toMatchObject({ built: 0, cached: 1, notNeeded: 1 });
    expect(fs.existsSync(toolPath)).toBe(false);
    // --dry-run says the same before doing anything.
    const dry = await slime(['realize', 'ahead', '-f', module, '--store', store, '--dry-run'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/^1 derivation is not needed \(inputs of valid outputs only\):\n {2}\S+-tool\.drv\nnothing to build or fetch\n$/m);

    // The plain logger says so in a line of its own and in the summary.
    removeStore(store);
    const plain = await realize(cache, 'plain');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^\[tool\] not needed: what depends on it came from a cache$/m);
    expect(plain.stderr).toMatch(/^slime: 0 built, 0 cached, 1 substituted, 1 not needed in /m);
  }, 300_000);

  it('builds the input after all when the cache cannot deliver top, then builds top', async () => {
    const cache = await cacheWithTop('cache-tampered');
    const narDir = path.join(cache, 'nar');
    const [nar] = fs.readdirSync(narDir);
    const bytes = fs.readFileSync(path.join(narDir, nar!));
    // The last bytes are the file's contents ("tool\n") and padding: one flipped byte breaks NarHash and FileHash.
    bytes[bytes.length - 40] ^= 0x01;
    fs.writeFileSync(path.join(narDir, nar!), bytes);
    removeStore(store);
    const r = await realize(cache);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    expect(evs.some((e) => e.type === 'cache-warning' && String(e.path) === topPath)).toBe(true);
    const builtTool = evs.findIndex((e) => e.type === 'built' && String(e.drvPath).endsWith('-tool.drv'));
    const builtTop = evs.findIndex((e) => e.type === 'built' && String(e.drvPath).endsWith('-top.drv'));
    expect(builtTool).toBeGreaterThanOrEqual(0);
    expect(builtTop).toBeGreaterThan(builtTool);
    expect(count(evs, 'substituted')).toBe(0);
    expect(count(evs, 'not-needed')).toBe(0);
    expect(fs.readFileSync(path.join(topPath, 'copy'), 'utf8')).toBe('tool\n');
    removeStore(dir);
  }, 300_000);
});
