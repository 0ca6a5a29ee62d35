/**
 * What a module passes to derivation() and fetchFile() is checked before slime reads
 * it (src/derivation/spec-check.ts): a missing or mistyped field, or one that does not
 * exist, is one line naming the file and line, the derivation and the field, never a
 * TypeError from inside slime. A throw has its line whether or not the module's
 * directory is a `"type": "module"` package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, slime, tempDir } from './support/cli.js';

const header = `import { derivation, fetchFile, target } from ${JSON.stringify(API)};\n`;

/** `slime targets` of a module; in an ES module package unless `commonJs`. */
async function targetsOf(body: string, commonJs = false) {
  const dir = tempDir();
  if (!commonJs) fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  fs.writeFileSync(path.join(dir, 'foo.ts'), header + body);
  return slime(['targets', '-f', 'foo.ts', '--store', path.join(dir, 'store')], { cwd: dir });
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('derivation() and fetchFile() specs', () => {
  const cases: [string, string, RegExp][] = [
    ['a missing builder', "export const x = derivation({ name: 'x', args: [] } as never);", /^error: foo\.ts:2:\d+: derivation x: `builder` is missing; give it an absolute path or a declared host tool, e\.g\. '\/bin\/sh'\n$/],
    ['a missing name', "export const x = derivation({ builder: '/bin/sh' } as never);", /^error: foo\.ts:2:\d+: derivation\(\): `name` is missing; give it a store path name/],
    ['args as one string', "export const x = derivation({ name: 'x', builder: '/bin/sh', args: '-c echo' as never });", /^error: foo\.ts:2:\d+: derivation x: `args` is "-c echo"; give it a list, e\.g\. \['-c', 'echo hi > \$out'\]\n$/],
    ['tools that are not names', "export const x = derivation({ name: 'x', builder: '/bin/sh', tools: [42 as never] });", /^error: foo\.ts:2:\d+: derivation x: `tools` is an array; give it a list of host tool names/],
    ['a field that does not exist', "export const x = derivation({ name: 'x', builder: '/bin/sh', enviroment: {} } as never);", /^error: foo\.ts:2:\d+: derivation x: unknown field `enviroment`; the fields are name, builder, args, env, /],
    ['urls for mirrors', "export const f = fetchFile({ name: 'f', sha256: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', urls: ['https://example.invalid/f'] } as never);", /^error: foo\.ts:2:\d+: fetchFile f: unknown field `urls`; the fields are name, sha256, mirrors\n$/],
    ['not an object', 'export const x = derivation(42 as never);', /^error: foo\.ts:2:\d+: derivation\(\) takes an object, not 42; pass derivation\(\{ name: '\.\.\.', \.\.\. \}\)\n$/],
  ];
  for (const [what, body, expected] of cases) {
    it(`refuses ${what} in one line, with the place`, async () => {
      const r = await targetsOf(`${body}\nexport const targets = [];\n`);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toContain('TypeError');
      noStack(r.stderr);
      expect(r.code).toBe(1);
    });
  }

  it('accepts a full spec (every field of the API) as before', async () => {
    const r = await targetsOf(`export const x = derivation({ name: 'x', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { a: '1' }, tools: ['echo'],
  outputs: ['out'], phases: 'cpython', comparesSamples: false, timeoutMs: 1000, nondeterministic: 'because' });
export const targets = [target('x', 'all fields', [x])];\n`);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^x +not yet/m);
  });

  it('gives a throw its line also in a module outside a "type": "module" package (every module runs as an ES module)', async () => {
    const r = await targetsOf("throw new Error('no such compiler');\nexport const targets = [];\n", true);
    expect(r.stderr).toBe('error: foo.ts:2:7: the module threw while it was evaluated: no such compiler; fix the module (`slime --debug` shows the stack)\n');
    expect(r.code).toBe(1);
    const esm = await targetsOf("throw new Error('no such compiler');\nexport const targets = [];\n");
    expect(esm.stderr).toBe(r.stderr);
  });
});
