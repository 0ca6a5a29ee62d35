/** What Nix users reach for: dry runs, build logs, why-depends, diff, graph formats, log --tail, completion. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, slime, tempDir, writeModule } from './support/cli.js';

function project(flag: string) {
  const dir = tempDir();
  const file = writeModule(
    dir,
    'm.ts',
    `const base = derivation({ name: 'base', builder: '/bin/sh', args: ['-c', 'mkdir $out; echo ${flag} > $out/flag'], tools: ['mkdir'] });
const app = derivation({ name: 'app', builder: '/bin/sh', args: ['-c', 'mkdir $out; for i in 1 2 3 4 5; do echo line $i; done; echo $base > $out/uses'], env: { base }, tools: ['mkdir'] });
export const targets = [target('app', 'the app', [app])];\n`,
  );
  return { dir, file, store: path.join(dir, 'store') };
}

describe('conveniences', () => {
  it('realize --dry-run says what would be built and builds nothing; -L echoes build lines; --quiet only failures', async () => {
    const { dir, file, store } = project('one');
    const dry = await slime(['realize', 'app', '-f', file, '--store', store, '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(/^2 derivations would be built:\n  \S+-base\.drv\n  \S+-app\.drv\n$/);
    expect(fs.readdirSync(store).filter((e) => !e.endsWith('.drv') && !e.startsWith('.'))).toEqual([]);
    const loud = await slime(['realize', 'app', '-f', file, '--store', store, '-L', '--no-link'], { cwd: dir });
    expect(loud.stderr).toContain('[app] line 3\n');
    const again = await slime(['realize', 'app', '-f', file, '--store', store, '--dry-run'], { cwd: dir });
    expect(again.stderr).toMatch(/^2 derivations are already valid \([\d.]+ \w?i?B\), nothing to do for them\nnothing to build or fetch\n$/);
    const quiet = await slime(['realize', 'app', '-f', file, '--store', store, '--quiet', '--no-link'], { cwd: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('log --tail, graph --json and --dot, why-depends, diff', async () => {
    const { dir, file, store } = project('one');
    const out = (await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir })).stdout.trim();
    const tail = await slime(['log', 'app', '--tail', '2', '-f', file, '--store', store], { cwd: dir });
    expect(tail.stdout).toBe('line 4\nline 5\n');

    const json = JSON.parse((await slime(['graph', 'app', '--json', '-f', file, '--store', store], { cwd: dir })).stdout);
    expect(json.derivations.map((d: { name: string; valid: boolean }) => [d.name, d.valid])).toEqual([['base', true], ['app', true]]);
    const dot = (await slime(['graph', 'app', '--dot', '-f', file, '--store', store], { cwd: dir })).stdout;
    expect(dot).toMatch(/^digraph "app" \{\n/);
    expect(dot).toMatch(/"\S+-app\.drv" -> "\S+-base\.drv";/);

    const why = await slime(['why-depends', './result', 'base', '-f', file, '--store', store], { cwd: dir });
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(new RegExp(`^${out}\\n└─ \\S+-base\\n$`));

    const other = project('two');
    const moved = path.join(dir, 'm2.ts');
    fs.copyFileSync(other.file, moved);
    expect((await slime(['realize', 'app', '-f', moved, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const drvs = fs.readdirSync(store).filter((e) => e.endsWith('-app.drv')).map((e) => path.join(store, e));
    expect(drvs).toHaveLength(2);
    const diff = await slime(['diff', drvs[0]!, drvs[1]!, '--store', store], { cwd: dir });
    expect(diff.code).toBe(1);
    // app differs only through its input base, whose script differs: the diff follows it down.
    expect(diff.stdout).toMatch(/input base differs:\n +base: \S+\n +\S+\n +args: .*(one|two).* -> .*(one|two)/);
  });

  it('completion bash completes commands and the module\'s targets', () => {
    const { dir, file } = project('one');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'slime'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@" -f ${file}\n`, { mode: 0o755 });
    const script = execFileSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' });
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _slime; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        encoding: 'utf8',
        cwd: dir,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
    expect(complete(['slime', 'rea'])).toBe('realise\nrealize\n');
    expect(complete(['slime', 'realize', 'ap'])).toContain('app\n');
    expect(complete(['slime', 'realize', '--keep-g'])).toBe('--keep-going\n');
  });
});
