import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimeError } from '../src/errors.js';
import { parseHash } from '../src/hash/digest.js';
import { type DrvData, parseDrv, serializeDrv } from '../src/derivation/aterm.js';
import { drvPathOf, fillOutputPaths, hashDerivationModulo } from '../src/derivation/drv-hash.js';
import { hashPath } from '../src/nar/hash.js';
import { makeFixedOutputPath } from '../src/store/paths.js';
import { hasNix, isolatedNixStore, warnIfNoNix, type NixStore } from './fixtures/nar-nix.js';

const ATTRS = ['plain', 'multi', 'dep', 'dep2', 'fixedRec', 'fixedFlat', 'fixedSha1', 'usesFixed', 'withSrc'];

warnIfNoNix('.drv text, .drv paths and output paths compared with nix-instantiate');

describe.skipIf(!hasNix)('derivations against nix-instantiate 2.8', () => {
  let nix: NixStore;
  let dir: string;
  const drvPaths: Record<string, string> = {};
  const modulo = new Map<string, Buffer>();

  /** An input's modulo hash, computed by slime from the .drv file Nix wrote. */
  const inputModulo = (drvPath: string): Buffer => {
    let h = modulo.get(drvPath);
    if (h === undefined) {
      h = hashDerivationModulo(parseDrv(readFileSync(drvPath, 'utf8')), inputModulo);
      modulo.set(drvPath, h);
    }
    return h;
  };

  const read = (attr: string): { text: string; drv: DrvData } => {
    const text = readFileSync(drvPaths[attr], 'utf8');
    return { text, drv: parseDrv(text) };
  };

  beforeAll(() => {
    nix = isolatedNixStore();
    dir = join(nix.root, 'expr');
    mkdirSync(join(dir, 'srcdir', 'sub'), { recursive: true });
    copyFileSync(join(import.meta.dirname, 'fixtures', 'drv-instantiate.nix'), join(dir, 'default.nix'));
    writeFileSync(join(dir, 'input.txt'), 'source file\n');
    writeFileSync(join(dir, 'srcdir', 'sub', 'a'), 'a\n');
    const printed = nix.text('nix-instantiate', [dir, ...ATTRS.flatMap((a) => ['-A', a])]).split('\n');
    ATTRS.forEach((a, i) => (drvPaths[a] = printed[i]));
  });
  afterAll(() => nix.cleanup());

  it.each(ATTRS)('%s: parse then serialize gives back the exact .drv text', (attr) => {
    const { text, drv } = read(attr);
    expect(serializeDrv(drv)).toBe(text);
  });

  it.each(ATTRS)('%s: drvPathOf gives the .drv path nix-instantiate printed', (attr) => {
    const { drv } = read(attr);
    expect(drvPathOf(nix.storeDir, drv.env.name, drv)).toBe(drvPaths[attr]);
  });

  it.each(ATTRS)('%s: fillOutputPaths computes the output paths from blank ones', (attr) => {
    const { drv } = read(attr);
    const blankOutputs = Object.fromEntries(Object.entries(drv.outputs).map(([o, v]) => [o, { ...v, path: '' }]));
    const env = Object.fromEntries(Object.entries(drv.env).filter(([k]) => !(k in drv.outputs)));
    const filled = fillOutputPaths(nix.storeDir, drv.env.name, { ...drv, outputs: blankOutputs, env }, inputModulo);
    expect(filled).toEqual(drv);
    expect(serializeDrv(filled)).toBe(serializeDrv(drv));
  });

  it('multi: non-"out" outputs are named <name>-<output>', () => {
    const { drv } = read('multi');
    expect(Object.keys(drv.outputs).sort()).toEqual(['dev', 'lib', 'out']);
    expect(drv.outputs.dev.path).toMatch(/-multi-dev$/);
    expect(drv.outputs.out.path).toMatch(/-multi$/);
  });

  it('fixed outputs store the hash Nix parsed from base32 and SRI', () => {
    const rec = read('fixedRec').drv.outputs.out;
    expect(rec.hashAlgo).toBe('r:sha256');
    expect(rec.hash).toBe(parseHash('1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s', 'sha256').digest.toString('hex'));
    const flat = read('fixedFlat').drv.outputs.out;
    expect(flat.hashAlgo).toBe('sha256');
    expect(flat.hash).toBe(parseHash('sha256-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=').digest.toString('hex'));
  });

  it('withSrc: ./file and builtins.path sources are the recursive sha256 paths slime computes', async () => {
    const { drv } = read('withSrc');
    const source = async (p: string, name: string): Promise<string> =>
      makeFixedOutputPath(nix.storeDir, name, { method: 'recursive', algo: 'sha256', digest: (await hashPath(p)).narHash });
    const input = await source(join(dir, 'input.txt'), 'input.txt');
    const srcdir = await source(join(dir, 'srcdir'), 'srcdir');
    expect(drv.inputSrcs).toEqual([input, srcdir].sort());
    expect(drv.env.src).toBe(input);
    expect(drv.env.dir).toBe(srcdir);
  });
});

describe('parseDrv and serializeDrv', () => {
  const sample: DrvData = {
    outputs: { out: { path: '/s/aaaa-x', hashAlgo: '', hash: '' } },
    inputDrvs: { '/s/bbbb-y.drv': ['out', 'dev'] },
    inputSrcs: ['/s/cccc-src'],
    platform: 'x86_64-linux',
    builder: '/bin/sh',
    args: ['-c', 'a "quoted" \\ back\nnew\ttab\rcr'],
    env: { b: '2', a: '1', 'quo"te': 'x\\y' },
  };

  it('escapes exactly ", \\, newline, CR and tab, sorts sets and maps, and reads it all back', () => {
    const text = serializeDrv(sample);
    expect(text).toContain('"a \\"quoted\\" \\\\ back\\nnew\\ttab\\rcr"');
    expect(text).toContain('[("/s/bbbb-y.drv",["dev","out"])]');
    expect(text).toContain('[("a","1"),("b","2"),("quo\\"te","x\\\\y")]');
    const back = parseDrv(text);
    expect(back.args).toEqual(sample.args);
    expect(back.env).toEqual(sample.env);
    expect(serializeDrv(back)).toBe(text);
  });

  it('sorts env keys by their UTF-8 bytes, whether or not a key has a code unit from U+D800 up', () => {
    // Below U+D800 the default string order is byte order; from there on they part (𝄞, a surrogate
    // pair, sorts before U+E000 in UTF-16 and after it in UTF-8). Random keys of both kinds.
    const low = ['a', 'b', 'Z', '0', '~', 'é', 'ß', '\u07ff', '\u0800', '\ud7ff'];
    const high = ['\ue000', '\ufb01', '\uffff', '𝄞', '😀'];
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const key = (pool: string[]): string => Array.from({ length: 1 + next(4) }, () => pool[next(pool.length)]).join('');
    for (const pool of [low, [...low, ...high]]) {
      const keys = [...new Set(Array.from({ length: 200 }, () => key(pool)))];
      const env = Object.fromEntries(keys.map((k) => [k, 'v']));
      const written = Object.keys(parseDrv(serializeDrv({ ...sample, env })).env);
      expect(written).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    }
  });

  it('takes any other escaped character as itself, as Nix does', () => {
    const text = serializeDrv(sample).replace('"/bin/sh"', '"/bin/\\s\\h"');
    expect(parseDrv(text).builder).toBe('/bin/sh');
  });

  it.each([
    ['text that is not a derivation', 'hello', /at character 0: expected "Derive\("/],
    ['an unterminated string', 'Derive([("out","/s/x', /expected the closing '"' of a string/],
    ['a missing comma', serializeDrv(sample).replace('],[("/s/bbbb', '][("/s/bbbb'), /expected ","/],
    ['trailing text', `${serializeDrv(sample)}x`, /expected the end of the derivation/],
    ['a repeated environment variable', serializeDrv(sample).replace('("b","2")', '("a","2")'), /"a" appears twice/],
    ['a repeated output', serializeDrv(sample).replace('[("out",', '[("out","/s/x","",""),("out",'), /each output name once/],
  ])('rejects %s, saying where', (_what, text, message) => {
    expect(() => parseDrv(text)).toThrow(SlimeError);
    expect(() => parseDrv(text)).toThrow(message);
  });

  it('hashDerivationModulo of a fixed-output derivation ignores how it is built', () => {
    const fixed = (builder: string): DrvData => ({
      ...sample,
      builder,
      inputDrvs: {},
      outputs: { out: { path: '/s/dddd-f', hashAlgo: 'r:sha256', hash: 'ab'.repeat(32) } },
    });
    const never = (): Buffer => {
      throw new Error('a fixed-output derivation must not look at its inputs');
    };
    expect(hashDerivationModulo(fixed('/bin/a'), never).equals(hashDerivationModulo(fixed('/bin/b'), never))).toBe(true);
  });

  it('fillOutputPaths refuses a fixed hash on a derivation with several outputs', () => {
    const bad: DrvData = {
      ...sample,
      inputDrvs: {},
      outputs: { out: { path: '', hashAlgo: 'sha256', hash: 'ab'.repeat(32) }, dev: { path: '', hashAlgo: '', hash: '' } },
    };
    expect(() => fillOutputPaths('/s', 'x', bad, () => Buffer.alloc(32))).toThrow(/fixed hash for output out, but .* exactly one output/);
  });

  it('fillOutputPaths refuses an unknown fixed-output algorithm', () => {
    const bad: DrvData = { ...sample, inputDrvs: {}, outputs: { out: { path: '', hashAlgo: 'r:blake3', hash: 'ab' } } };
    expect(() => fillOutputPaths('/s', 'x', bad, () => Buffer.alloc(32))).toThrow(/hash algorithm 'r:blake3'/);
  });
});
