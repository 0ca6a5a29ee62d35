import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlime } from './fixtures/nar-cli-run.js';
import { hasNix, isolatedNixStore, makeTestTree, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

let work: string;
let tree: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-nar-cli-'));
  tree = join(work, 'tree');
  makeTestTree(tree);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

warnIfNoNix('slime nar dump output compared with nix-store --dump');

describe.skipIf(!hasNix)('slime nar against nix-store', () => {
  let nix: NixStore;
  beforeAll(() => {
    nix = isolatedNixStore();
  });
  afterAll(() => nix.cleanup());

  it('nar dump writes what nix-store --dump writes', async () => {
    const r = await runSlime(['nar', 'dump', tree]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(nix.run('nix-store', ['--dump', tree]))).toBe(true);
  });

  it('nar restore unpacks what nix-store --dump wrote', async () => {
    const dest = join(work, 'restored');
    const r = await runSlime(['nar', 'restore', dest], nix.run('nix-store', ['--dump', tree]));
    expect(r.code).toBe(0);
    expect(nix.run('nix-store', ['--dump', dest]).equals(nix.run('nix-store', ['--dump', tree]))).toBe(true);
  });
});

describe('slime nar', () => {
  it('round-trips through dump and restore', async () => {
    const dumped = await runSlime(['nar', 'dump', tree]);
    const dest = join(work, 'round-trip');
    expect((await runSlime(['nar', 'restore', dest], dumped.stdout)).code).toBe(0);
    expect((await runSlime(['nar', 'dump', dest])).stdout.equals(dumped.stdout)).toBe(true);
  });

  it('restore of a bad NAR exits 1, says what and where, and leaves nothing', async () => {
    const parent = join(work, 'bad');
    mkdirSync(parent);
    const good = (await runSlime(['nar', 'dump', tree])).stdout;
    const r = await runSlime(['nar', 'restore', join(parent, 'out')], good.subarray(0, good.length - 5));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid NAR at byte \d+: .*truncated/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('restore into an existing DIR exits 1 and says so', async () => {
    const dest = join(work, 'exists');
    mkdirSync(dest);
    const r = await runSlime(['nar', 'restore', dest], (await runSlime(['nar', 'dump', tree])).stdout);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`'${dest}': it already exists`);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('dump of a missing path exits 1 naming it', async () => {
    const r = await runSlime(['nar', 'dump', join(work, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing'.*does not exist/);
  });

  it.each([
    [['nar'], /Usage: slime nar dump/],
    [['nar', 'pack', 'x'], /unknown mode 'pack'/],
    [['nar', 'dump'], /expected exactly one PATH, got 0/],
    [['nar', 'restore', 'a', 'b'], /expected exactly one DIR, got 2/],
    [['nar', 'dump', '--follow', 'x'], /unknown option '--follow'/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await runSlime(args);
    expect(r.code).toBe(2);
    expect(r.stdout.toString() + r.stderr).toMatch(message);
  });

  it('--help prints the whole text', async () => {
    const r = await runSlime(['nar', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('slime nar restore DIR < FILE.nar');
  });
});
