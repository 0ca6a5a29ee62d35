import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HASH_ALGOS } from '../src/hash/digest.js';
import { runSlime } from './fixtures/nar-cli-run.js';
import { hasNix, isolatedNixStore, makeTestTree, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

let work: string;
let tree: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'slime-hash-cli-'));
  tree = join(work, 'tree');
  makeTestTree(tree);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

warnIfNoNix('slime hash output compared with nix-hash');

describe.skipIf(!hasNix)('slime hash against nix-hash', () => {
  let nix: NixStore;
  beforeAll(() => {
    nix = isolatedNixStore();
  });
  afterAll(() => nix.cleanup());

  it('hash path prints what nix-hash --type sha256 --base32 prints, by default', async () => {
    const r = await runSlime(['hash', 'path', tree]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(`${nix.text('nix-hash', ['--type', 'sha256', '--base32', tree])}\n`);
  });

  it('hash file prints what nix-hash --type sha256 --flat --base32 prints', async () => {
    const f = join(tree, 'sizes', 'f65537');
    const r = await runSlime(['hash', 'file', f]);
    expect(r.stdout.toString()).toBe(`${nix.text('nix-hash', ['--type', 'sha256', '--flat', '--base32', f])}\n`);
  });

  it.each(HASH_ALGOS)('--type %s with --base16 and --base32, for paths and files', async (algo) => {
    const f = join(tree, 'run.sh');
    for (const [mode, flat] of [['path', []], ['file', ['--flat']]] as const) {
      const target = mode === 'path' ? tree : f;
      const b16 = await runSlime(['hash', mode, '--type', algo, '--base16', target]);
      expect(b16.stdout.toString().trim()).toBe(nix.text('nix-hash', ['--type', algo, ...flat, target]));
      const b32 = await runSlime(['hash', mode, `--type=${algo}`, target]);
      expect(b32.stdout.toString().trim()).toBe(nix.text('nix-hash', ['--type', algo, ...flat, '--base32', target]));
    }
  });

  it('--sri prints ALGO-<base64> of the same digest, and one line per path', async () => {
    const hex = nix.text('nix-hash', ['--type', 'sha512', tree]);
    const r = await runSlime(['hash', 'path', '--sri', '--type', 'sha512', tree, tree]);
    const line = `sha512-${Buffer.from(hex, 'hex').toString('base64')}\n`;
    expect(r.stdout.toString()).toBe(line + line);
  });
});

describe('slime hash usage', () => {
  it('--help prints the whole text', async () => {
    const r = await runSlime(['hash', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/Usage: slime hash path.*\n.*slime hash file/);
    expect(r.stdout.toString()).toContain('--sri');
  });

  it.each([
    [['hash', 'dir', '.'], /unknown mode 'dir'/],
    [['hash', 'path'], /say which path to hash/],
    [['hash', 'file', '--type', 'crc32', 'x'], /unknown hash algorithm 'crc32'/],
    [['hash', 'file', '--type'], /--type needs an algorithm/],
    [['hash', 'file', '--hex', 'x'], /unknown option '--hex'/],
  ])('%j is a usage error (exit 2) that says what is wrong', async (args, message) => {
    const r = await runSlime(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a missing file is an error (exit 1) naming it', async () => {
    const missing = join(work, 'nope');
    const r = await runSlime(['hash', 'file', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`'${missing}': it does not exist`);
  });
});
