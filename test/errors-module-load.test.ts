/**
 * A module that exports garbage, does not parse, or throws: one line that names the
 * file (line:column where known), what is wrong and what to do; exit 1; no stack
 * unless --debug or SLIME_DEBUG=1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, slime, tempDir } from './support/cli.js';

const header = `import { derivation, fetchFile, target } from ${JSON.stringify(API)};\n`;

/** A module in its own project directory (an ES module package, as derivations/ is). */
function project(body: string): { dir: string; file: string } {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  fs.mkdirSync(path.join(dir, 'derivations'));
  const file = path.join(dir, 'derivations', 'foo.ts');
  fs.writeFileSync(file, header + body);
  return { dir, file };
}

async function targetsOf(body: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const { dir } = project(body);
  return slime(['targets', '-f', 'derivations/foo.ts', '--store', path.join(dir, 'store'), ...extra], { cwd: dir, env });
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('module load errors', () => {
  it('a syntax error: file:line:col and "syntax error"', async () => {
    const r = await targetsOf('const x = ;\nexport const targets = [];\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: derivations\/foo\.ts:2:11: syntax error: Unexpected ";"; fix the module and run again\n$/);
  });

  it('a throw: the line of the throw, the message, and no stack', async () => {
    const r = await targetsOf("function f() {\n  throw new Error('no such compiler');\n}\nf();\nexport const targets = [];\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: derivations\/foo\.ts:3:9: the module threw while it was evaluated: no such compiler; fix the module/);
    expect(r.stderr).not.toContain('internal error');
    noStack(r.stderr);
  });

  it('prints the stack with --debug or SLIME_DEBUG=1', async () => {
    const body = "function f() {\n  throw new Error('no such compiler');\n}\nf();\nexport const targets = [];\n";
    for (const [extra, env] of [[['--debug'], {}], [[], { SLIME_DEBUG: '1' }]] as const) {
      const r = await targetsOf(body, [...extra], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^\s+at f \(.*foo\.ts:3:9\)$/m);
    }
  });

  it('targets = 42, a target without derivations, a non-derivation in a target', async () => {
    const bad = await targetsOf('export const targets = 42;\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: derivations\/foo\.ts: `targets` is 42, not an array; export `targets = \[target\(/);
    const empty = await targetsOf("export const targets = [target('t', 'nothing', [])];\n");
    expect(empty.stderr).toMatch(/^error: derivations\/foo\.ts: target "t" has no derivations; give it at least one/);
    const odd = await targetsOf("export const targets = [target('t', 'odd', [42 as never])];\n");
    expect(odd.stderr).toMatch(/target "t"'s derivation 1 is 42, not a derivation/);
    for (const r of [bad, empty, odd]) noStack(r.stderr);
  });

  it('refuses env values that are objects, null or undefined, naming the derivation and the key', async () => {
    for (const [value, said] of [['{ x: 1 }', 'an object'], ['null', 'null'], ['undefined', 'undefined']]) {
      const r = await targetsOf(
        `const d = derivation({ name: 'd', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { GOOD: 'x', BAD: ${value} as never } });\nexport const targets = [target('t', 'x', [d])];\n`,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: derivations/foo\\.ts:2:\\d+: derivation d: env\\.BAD is ${said}, which cannot be turned into a string`));
      expect(r.stderr).not.toContain('[object Object]');
    }
  });

  it('refuses an unsupported mirror scheme when the fetch is declared, not when it runs', async () => {
    const r = await targetsOf(
      "const f = fetchFile({ name: 'x.tar.gz', sha256: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', mirrors: [{ url: 'ftp://mirror.invalid/x.tar.gz' }] });\nexport const targets = [target('t', 'x', [f])];\n",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: derivations\/foo\.ts:2:\d+: invalid mirror for x\.tar\.gz: ftp:\/\/mirror\.invalid\/x\.tar\.gz uses ftp: but only https:, http: and file: are supported/);
  });

  it('run outside a project: says where it looked and what to do, and creates no store', async () => {
    const dir = tempDir();
    const r = await slime(['targets'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: no derivation module here: slime reads derivations/index.ts in the current directory (${dir}), and there is none; ` +
        'run slime from the project directory (where the README is), or pass the module with -f FILE\n',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
    // -f names the file itself: the message is about that file.
    const f = await slime(['targets', '-f', 'nowhere.ts'], { cwd: dir });
    expect(f.code).toBe(2);
    expect(f.stderr).toBe('error: derivation module nowhere.ts does not exist; pass an existing file with -f FILE\n');
  });
});
