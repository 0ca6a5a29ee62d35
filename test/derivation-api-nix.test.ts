/**
 * A derivation declared through slime's TypeScript API is the Nix derivation of the
 * same attributes: `slime show` and `nix-instantiate` agree on the .drv path and the
 * output paths, for plain, dependent, multi-output, fixed-output and source-using
 * derivations, in the same store directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasNix, isolatedNixStore, warnIfNoNix } from './fixtures/nar-nix.js';
import { slime, writeModule } from './support/cli.js';

warnIfNoNix('derivation() API compared with nix-instantiate');

interface Shown {
  name: string;
  drvPath: string;
  outputs: Record<string, string>;
  derivation: { env: Record<string, string>; args: string[]; builder: string };
}

const nixString = (s: string) => JSON.stringify(s).replace(/\$\{/g, '\\${');

describe.skipIf(!hasNix)('derivation() against nix-instantiate', () => {
  const nix = isolatedNixStore();
  afterAll(() => nix.cleanup());

  it('gives the same .drv and output paths as Nix for the same attributes', async () => {
    const dir = path.join(nix.root, 'project');
    fs.mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'build.sh'), 'echo built > $out\n');
    fs.writeFileSync(path.join(dir, 'tree/sub/file'), 'data\n');
    const file = writeModule(dir, 'm.ts', `
export const base = derivation({ name: 'base', builder: '/bin/sh', args: ['-e', source(import.meta.url, 'build.sh')],
  env: { flag: true, off: false, count: 42, words: ['a', 'b'] } });
export const multi = derivation({ name: 'multi', builder: '/bin/sh', args: ['-c', 'mkdir $out $dev'], outputs: ['out', 'dev'] });
export const fixed = derivation({ name: 'fixed.txt', builder: '/bin/sh', args: ['-c', 'echo hi > $out'],
  outputHash: { hash: 'sha256-mJMOBJh2Xd6EqC8WoAN/6uOI3NHHb+tCHUGhKsm/jEI=', mode: 'flat' } });
export const top = derivation({ name: 'top', builder: '/bin/sh',
  args: ['-c', \`cat \${base} \${multi.outputs.dev}/x \${fixed} > $out\`],
  env: { tree: source(import.meta.url, 'tree'), base } });
export const targets = [target('all', 'everything', [top])];`);
    const shown: Shown[] = [];
    for (const name of ['base', 'multi', 'fixed', 'top']) {
      const r = await slime(['show', name, '-f', file, '--store', nix.storeDir], { cwd: dir });
      expect(r.stderr).toBe('');
      shown.push(JSON.parse(r.stdout));
    }
    const [base, multi, fixed, top] = shown;

    // The same attributes as a Nix expression: everything slime put in the environment.
    const attrs = (s: Shown, refs: Record<string, string>) => {
      const skip = new Set(['name', 'system', 'builder', 'out', 'dev', 'outputs', ...Object.keys(refs)]);
      const plain = Object.entries(s.derivation.env).filter(([k]) => !skip.has(k)).map(([k, v]) => `${JSON.stringify(k)} = ${nixString(v)};`);
      return [`name = ${nixString(s.name)};`, `system = ${nixString(s.derivation.env.system)};`, `builder = ${nixString(s.derivation.builder)};`, ...plain].join(' ');
    };
    const expr = `
let
  base = derivation { ${attrs(base, {})} args = [ "-e" ./build.sh ]; };
  multi = derivation { ${attrs(multi, {})} args = [ "-c" "mkdir $out $dev" ]; outputs = [ "out" "dev" ]; };
  fixed = derivation { ${attrs(fixed, {})} args = [ "-c" "echo hi > $out" ]; };
  top = derivation { ${attrs(top, { tree: '', base: '' })} tree = ./tree; inherit base;
    args = [ "-c" "cat \${base} \${multi.dev}/x \${fixed} > $out" ]; };
in { inherit base multi fixed top; }`;
    fs.writeFileSync(path.join(dir, 'default.nix'), expr);
    for (const s of shown) {
      const attr = s.name === 'fixed.txt' ? 'fixed' : s.name;
      const drvPath = nix.text('nix-instantiate', ['-A', attr, path.join(dir, 'default.nix')]);
      expect({ attr, drvPath }).toEqual({ attr, drvPath: s.drvPath });
      const nixOutputs = nix.text('nix-store', ['--query', '--outputs', drvPath]).split('\n').sort();
      expect(Object.values(s.outputs).sort()).toEqual(nixOutputs);
      expect(fs.readFileSync(drvPath, 'utf8')).toBe((await slime(['show', s.name === 'fixed.txt' ? 'fixed' : s.name, '--drv', '-f', file, '--store', nix.storeDir], { cwd: dir })).stdout.trimEnd());
    }
  });
});
