/**
 * The PGO split in miniature, with gcc: a profile derivation whose training run
 * counts loop iterations until a clock tick (so its .gcda counters differ from run to
 * run: declared nondeterministic) and an optimized build from that pinned profile,
 * which rebuilds bit for bit. As CPython's setup.py does, objects are compiled by
 * absolute path, so their .gcda files are named after the build directory: the two
 * derivations share one (`slimeBuildDir`), and without it the optimized build finds
 * no profile (`-Werror=missing-profile`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRoot } from '../src/builder/build-dir.js';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

const C_SOURCE = `#include <time.h>
static long work(long x) { return x % 3 ? x * 2 : x + 1; }
int main(void) {
  struct timespec a, b;
  long n = 0, s = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do { s += work(n++); clock_gettime(CLOCK_MONOTONIC, &b); }
  while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 3000000L);
  return s == 42;
}`;

function pgoModule(dir: string, shared: boolean): string {
  return writeModule(
    dir,
    `pgo-${shared}.ts`,
    `const tools = ['sh', 'gcc', 'as', 'ld', 'tar', 'find', 'sort', 'mkdir', 'echo', 'chmod'];
const common = { csrc: ${JSON.stringify(C_SOURCE)}${shared ? ", slimeBuildDir: 'toy-pgo-" + path.basename(dir) + "'" : ''} };
// Compiled by absolute path into obj/<absolute path>/, as distutils does.
const compile = 'mkdir -p src obj$PWD/src; echo "$csrc" > src/p.c; gcc -O2 $flags -c $PWD/src/p.c -o obj$PWD/src/p.o';
export const profile = derivation({
  name: 'toy-pgo-profile', builder: '/bin/sh', tools,
  args: ['-ec', 'flags=-fprofile-generate; ' + compile + '; gcc -fprofile-generate obj$PWD/src/p.o -o train; ./train || true; mkdir -p $out; cd obj; find . -name "*.gcda" | sort | tar -cf - -T - | (cd $out && tar -xf -)'],
  env: common,
  nondeterministic: 'training run: counts loop iterations until a clock tick',
});
export const optimized = derivation({
  name: 'toy-pgo-opt', builder: '/bin/sh', tools,
  args: ['-ec', 'mkdir -p obj; (cd $profile && tar -cf - .) | (cd obj && tar -xf -); chmod -R u+w obj; flags="-fprofile-use -Werror=missing-profile -frandom-seed=toy"; ' + compile + '; mkdir -p $out/bin; gcc obj$PWD/src/p.o -o $out/bin/prog'],
  env: { ...common, profile },
});
export const targets = [target('pgo', 'profile, then the optimized build', [optimized])];
`,
  );
}

describe('a PGO build split in a nondeterministic profile and a reproducible optimized build', () => {
  it('rebuilds the optimized program bit for bit from the pinned profile, in the shared build directory', async () => {
    const dir = tempDir();
    const file = pgoModule(dir, true);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'pgo', '-f', file, '--store', store, '--json'], { cwd: dir });
    expect(r.stderr).toContain('slime check: 2 derivations: 1 differs, as expected, 1 equal');
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as { name: string; verdict: string; outputs: { out: { differences?: { path: string; format: string }[] } } }[];
    expect(records.map((x) => [x.name, x.verdict])).toEqual([
      ['toy-pgo-profile', 'expected-to-differ'],
      ['toy-pgo-opt', 'equal'],
    ]);
    // The profile's difference is its counters, in the gcda named after the shared build directory.
    const sharedDir = path.join(buildRoot(), `toy-pgo-${path.basename(dir)}`);
    // Named after the absolute build directory: the shared host one, or /build in the sandbox.
    expect(records[0].outputs.out.differences).toEqual([expect.objectContaining({ format: 'binary' })]);
    expect([`${sharedDir.slice(1)}/src/p.gcda`, 'build/src/p.gcda']).toContain(records[0].outputs.out.differences![0].path);
    // --only: the optimized build alone, from the same pinned profile.
    const only = await slime(['check', 'optimized', '-f', file, '--store', store, '--only', '--json'], { cwd: dir });
    expect(only.code).toBe(0);
    expect((JSON.parse(only.stdout) as { name: string; verdict: string }[]).map((x) => [x.name, x.verdict])).toEqual([['toy-pgo-opt', 'equal']]);
    expect(fs.existsSync(sharedDir)).toBe(false);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
    expect(storePaths(store).filter((p) => p.endsWith('.check'))).toEqual([]);
  }, 240_000);

  it('without a shared build directory (and without the sandbox\'s /build) the optimized build finds no profile', async () => {
    const dir = tempDir();
    const file = pgoModule(dir, false);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'pgo', '-f', file, '--store', store, '--no-link'], { cwd: dir, env: { SLIME_SANDBOX: '0' } });
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/toy-pgo-opt\] \| .*p\.gcda.* not found|missing-profile/);
  }, 240_000);
});
