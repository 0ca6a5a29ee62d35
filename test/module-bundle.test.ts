/**
 * A TypeScript derivation module runs as one esbuild bundle in slime's process
 * (src/derivation/module-bundle.ts): each bundled file keeps its own import.meta, a
 * package is imported from where it resolves for the importing file (a TypeScript one
 * is bundled), errors name the file and line that caused them, and the temporary
 * bundle is gone afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, slime, tempDir } from './support/cli.js';

function project(): string {
  const dir = tempDir();
  const w = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  w('sub/lib.ts', 'export const where = { url: import.meta.url, dirname: import.meta.dirname, filename: import.meta.filename };\n');
  // An ES package with a CommonJS twin: the import condition must win, as Node picks it.
  w('node_modules/greet/package.json', '{ "name": "greet", "type": "module", "exports": { "import": "./esm.js", "require": "./cjs.cjs" } }\n');
  w('node_modules/greet/esm.js', 'export const hello = "esm " + import.meta.url;\n');
  w('node_modules/greet/cjs.cjs', 'exports.hello = "cjs";\n');
  // A package whose entry is TypeScript: Node could not import it; it is bundled.
  w('node_modules/tsgreet/package.json', '{ "name": "tsgreet", "main": "index.ts" }\n');
  w('node_modules/tsgreet/index.ts', 'export const hi: string = "ts";\n');
  w(
    'main.ts',
    `import { derivation, target } from ${JSON.stringify(API)};
import { where } from './sub/lib.js';
import { hello } from 'greet';
import { hi } from 'tsgreet';
export const d = derivation({ name: 'd', builder: '/bin/sh', args: ['-c', 'echo > $out'],
  env: { URL: where.url, DIR: where.dirname, FILE: where.filename, MAIN: import.meta.url, HELLO: hello, HI: hi } });
export const targets = [target('d', 'd', [d])];
`,
  );
  return dir;
}

async function show(dir: string, file = 'main.ts', env: NodeJS.ProcessEnv = {}) {
  return slime(['show', 'd', '-f', file, '--store', path.join(dir, 'store')], { cwd: dir, env: { SLIME_EVAL_CACHE: '0', ...env } });
}

describe('a TypeScript module, bundled', () => {
  it("keeps each file's import.meta, imports packages as Node resolves them, bundles a TypeScript package, and leaves no temporary", async () => {
    const dir = project();
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const r = await show(dir, 'main.ts', { TMPDIR: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const env = (JSON.parse(r.stdout) as { derivation: { env: Record<string, string> } }).derivation.env;
    expect(env).toMatchObject({
      URL: `file://${dir}/sub/lib.ts`,
      DIR: `${dir}/sub`,
      FILE: `${dir}/sub/lib.ts`,
      MAIN: `file://${dir}/main.ts`,
      HELLO: `esm file://${dir}/node_modules/greet/esm.js`,
      HI: 'ts',
    });
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('an import that does not resolve: one line with the importing file and line, nothing left behind', async () => {
    const dir = project();
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(dir, 'sub/lib.ts'), "import { gone } from '../nowhere.js';\nexport const where = { url: gone };\n");
    const r = await show(dir, 'main.ts', { TMPDIR: tmp });
    expect(r.stderr).toBe(`error: sub/lib.ts:1:22: cannot import: Could not resolve "../nowhere.js"; fix the import's path (or install the package) and run again\n`);
    expect(r.code).toBe(1);
    expect(fs.readdirSync(tmp)).toEqual([]);
    const pkg = project();
    fs.rmSync(path.join(pkg, 'node_modules/greet'), { recursive: true });
    const missing = await show(pkg);
    expect(missing.stderr).toMatch(/^error: main\.ts:3:23: cannot import: Could not resolve "greet"/);
    expect(missing.code).toBe(1);
  });

  it('a throw in an imported file names that file and line; a syntax error in it too', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'sub/lib.ts'), "export const where = {};\nif (where) throw new RangeError('bad lib');\n");
    const r = await show(dir);
    expect(r.stderr).toBe('error: sub/lib.ts:2:18: the module threw while it was evaluated: RangeError: bad lib; fix the module (`slime --debug` shows the stack)\n');
    expect(r.code).toBe(1);
    const debug = await slime(['show', 'd', '-f', 'main.ts', '--store', path.join(dir, 'store'), '--debug'], { cwd: dir, env: { SLIME_EVAL_CACHE: '0' } });
    expect(debug.stderr).toMatch(new RegExp(`^\\s+at .*${dir}/sub/lib\\.ts:2:18`, 'm'));
    fs.writeFileSync(path.join(dir, 'sub/lib.ts'), 'export const where = {;\n');
    const syntax = await show(dir);
    expect(syntax.stderr).toMatch(/^error: sub\/lib\.ts:1:23: syntax error: /);
    expect(syntax.code).toBe(1);
  });

  it('a temporary directory that cannot be written: one line naming it and what to do', async () => {
    const dir = project();
    const r = await show(dir, 'main.ts', { TMPDIR: path.join(dir, 'missing') });
    expect(r.stderr).toBe(
      `error: main.ts: cannot write the module's bundle into ${dir}/missing: ENOENT: no such file or directory, mkdtemp '${dir}/missing/slime-module-XXXXXX'; set TMPDIR to a writable directory\n`,
    );
    expect(r.code).toBe(1);
  });
});
