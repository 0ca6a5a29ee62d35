/**
 * `slime cache pull URL PATH...`, as `nix copy --from URL PATH` (the benchmark times it;
 * here it is checked): the path and its references come back into a new store, signed,
 * with the same NAR hashes; an unsigned cache or a path the cache lacks fails, naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir } from './support/cli.js';
import { buildToy, removeStore, toyModule } from './support/cache.js';

describe('slime cache pull', () => {
  it('substitutes a path and its closure into a new store, checked against a trusted key', async () => {
    const dir = tempDir('slime-cache-pull-');
    const store = path.join(dir, 'store');
    const module = toyModule(dir, 'pull');
    const built = await buildToy(dir, store, module);
    expect(built.code, built.stderr).toBe(0);
    const top = built.stdout.trim();
    const infoBefore = await slime(['store', 'path-info', top, '--json', '--store', store], { cwd: dir });
    const before = JSON.parse(infoBefore.stdout);
    expect(before.narHash).toMatch(/^sha256-/);
    expect(before.references).toHaveLength(1);
    const key = await slime(['key', 'generate', 'pull-test-1', '--dir', dir], { cwd: dir });
    const pub = key.stdout.trim();
    const cache = `file://${path.join(dir, 'cache')}`;
    const unsignedCache = `file://${path.join(dir, 'unsigned')}`;
    expect((await slime(['cache', 'push', cache, top, '--store', store, '--key', path.join(dir, 'pull-test-1.sec')], { cwd: dir })).code).toBe(0);
    expect((await slime(['cache', 'push', unsignedCache, top, '--store', store], { cwd: dir })).code).toBe(0);
    removeStore(store);

    // Unsigned, against a trusted key: refused, and the path stays invalid.
    const refused = await slime(['cache', 'pull', unsignedCache, top, '--store', store, '--trusted-public-keys', pub], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: ${top} could not be substituted from ${unsignedCache}`);
    expect(fs.existsSync(top)).toBe(false);

    const pulled = await slime(['cache', 'pull', cache, top, '--store', store, '--trusted-public-keys', pub], { cwd: dir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stderr).toMatch(new RegExp(`^copied ${top} from ${cache} in `, 'm'));
    const after = JSON.parse((await slime(['store', 'path-info', top, '--json', '--store', store], { cwd: dir })).stdout);
    expect(after.narHash).toBe(before.narHash);
    expect(after.references).toEqual(before.references);
    // The reference came with it, and the tree is the built one.
    const base = fs.readFileSync(path.join(top, 'ref'), 'utf8').trim();
    expect(fs.readFileSync(path.join(base, 'b'), 'utf8')).toBe('base pull\n');
    expect(fs.readFileSync(path.join(top, 't'), 'utf8')).toBe('base pull\n');

    // A path the cache does not have.
    const missing = `${store}/${'0'.repeat(32)}-absent`;
    const absent = await slime(['cache', 'pull', cache, missing, '--store', store], { cwd: dir });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain(`error: ${missing} could not be substituted from ${cache}`);
  });
});
