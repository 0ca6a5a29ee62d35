/**
 * The user's memory of host tool identities: a new store's first evaluation takes a
 * tool's hash and version from it while the file is the one it was taken from
 * (inode, size, mtime), and never when the file changed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userEvalCacheDir } from '../src/derivation/eval-cache.js';
import { HostToolResolver, userToolCacheFile } from '../src/derivation/host-tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-tool-cache-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the user tool cache', () => {
  it('is found under $SLIME_TOOL_CACHE, else $XDG_CACHE_HOME or ~/.cache, and can be turned off', () => {
    expect(userToolCacheFile({ SLIME_TOOL_CACHE: '/x/t.json', HOME: '/h' })).toBe('/x/t.json');
    expect(userToolCacheFile({ SLIME_TOOL_CACHE: '', HOME: '/h' })).toBeUndefined();
    expect(userToolCacheFile({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/slime/tool-cache.json');
    expect(userToolCacheFile({ HOME: '/h' })).toBe('/h/.cache/slime/tool-cache.json');
    expect(userToolCacheFile({})).toBeUndefined();
  });

  it("shares its directory with the user's evaluation cache, which has its own variable", () => {
    expect(userEvalCacheDir({ SLIME_EVAL_CACHE_DIR: '/x/e', HOME: '/h' })).toBe('/x/e');
    expect(userEvalCacheDir({ SLIME_EVAL_CACHE_DIR: '', HOME: '/h' })).toBeUndefined();
    expect(userEvalCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/slime/eval-cache');
    expect(userEvalCacheDir({ HOME: '/h' })).toBe('/h/.cache/slime/eval-cache');
    expect(userEvalCacheDir({})).toBeUndefined();
  });

  it("answers a new store's resolver for an unchanged file, and is filled by it otherwise", () => {
    const user = path.join(work, 'user.json');
    const first = new HostToolResolver(path.join(work, 'store-a.json'), [], user);
    const cat = first.resolve('cat');
    first.save();
    const real = fs.realpathSync(cat.path);
    const saved = JSON.parse(fs.readFileSync(user, 'utf8'));
    expect(saved[real].sha256).toBe(cat.sha256);
    // Marked, to see where a second store's answer comes from.
    saved[real].version = 'remembered';
    fs.writeFileSync(user, JSON.stringify(saved));
    const second = new HostToolResolver(path.join(work, 'store-b.json'), [], user);
    expect(second.resolve('cat').version).toBe('remembered');
    second.save();
    expect(JSON.parse(fs.readFileSync(path.join(work, 'store-b.json'), 'utf8'))[real].version).toBe('remembered');
  });

  it('is not used for a file that changed since (another inode, size or mtime)', () => {
    const user = path.join(work, 'user2.json');
    const first = new HostToolResolver(undefined, [], user);
    const real = fs.realpathSync(first.resolve('cat').path);
    first.save();
    const saved = JSON.parse(fs.readFileSync(user, 'utf8'));
    saved[real] = { ...saved[real], key: 'v2:1:2:3', version: 'stale' };
    fs.writeFileSync(user, JSON.stringify(saved));
    expect(new HostToolResolver(path.join(work, 'store-c.json'), [], user).resolve('cat').version).toMatch(/^cat \(GNU coreutils\)/);
  });
});
