/**
 * A derivation whose outputs a cache has is substituted without waiting for its build
 * inputs: here `tool` (a build-only input of `top`, not in the cache) cannot finish
 * until `top` is in the store. Substituting in build order would wait forever (the
 * builder gives up after two minutes and the run fails); substituting ahead, `top`
 * arrives first and `tool` then builds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';
import { events, removeStore } from './support/cache.js';

describe('substitution ahead of build inputs', () => {
  it('substitutes a derivation while an input it does not need at run time is still building', async () => {
    const dir = tempDir('slime-cache-ahead-');
    const store = path.join(dir, 'store');
    const flag = path.join(dir, 'wait-for-top');
    const module = writeModule(
      dir,
      'ahead.ts',
      `const wait = 'if [ -e "$FLAG" ]; then i=0; until ls "$STOREDIR" | grep -q -- "-top$"; do i=$((i+1)); if [ $i -gt 1200 ]; then echo "top never came" >&2; exit 1; fi; sleep 0.1; done; fi';
export const tool = derivation({ name: 'tool', builder: '/bin/sh', args: ['-c', wait + '; mkdir $out; echo tool > $out/t'],
  env: { FLAG: ${JSON.stringify(flag)}, STOREDIR: ${JSON.stringify(store)} } as never, tools: ['ls', 'grep', 'sleep', 'mkdir', 'echo'] });
export const top = derivation({ name: 'top', builder: '/bin/sh', args: ['-c', 'mkdir $out; cat $tool/t > $out/copy'], env: { tool } as never, tools: ['mkdir', 'cat'] });
export const targets = [target('ahead', 'top, built with tool', [top])];`,
    );
    const built = await slime(['realize', 'ahead', '-f', module, '--store', store, '--no-link', '--no-substitute'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const top = built.stdout.trim();
    const key = await slime(['key', 'generate', 'ahead-1', '--dir', dir], { cwd: dir });
    const cache = `file://${dir}/cache`;
    // Only top (it refers to nothing): tool must be built.
    const push = await slime(['cache', 'push', cache, top, '--store', store, '--key', path.join(dir, 'ahead-1.sec')], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    removeStore(store);
    fs.writeFileSync(flag, '');
    const r = await slime(
      ['realize', 'ahead', '-f', module, '--store', store, '--no-link', '--no-sandbox', '-j', '2', '--log-format', 'json', '--substituters', cache, '--trusted-public-keys', key.stdout.trim()],
      { cwd: dir },
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    const substituted = evs.findIndex((e) => e.type === 'substituted' && String(e.drvPath).endsWith('-top.drv'));
    const toolBuilt = evs.findIndex((e) => e.type === 'built' && String(e.drvPath).endsWith('-tool.drv'));
    expect(substituted).toBeGreaterThanOrEqual(0);
    expect(toolBuilt).toBeGreaterThan(substituted);
    expect(fs.readFileSync(path.join(top, 'copy'), 'utf8')).toBe('tool\n');
    removeStore(dir);
  }, 300_000);
});
