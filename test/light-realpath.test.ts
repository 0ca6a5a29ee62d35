/**
 * derivations/cpython-wasi/slime_wasi_realpath.c, the realpath() python.wasm gets
 * because wasi-libc lacks one, compiled natively under another name and compared with
 * glibc's realpath() on the same paths: relative and absolute, ".", "..", symbolic
 * links (relative, absolute, looping, followed by ".."), a file followed by "/", paths
 * that do not exist.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const source = path.join(root, 'derivations/cpython-wasi/slime_wasi_realpath.c');

const harness = `#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
char *slime_realpath(const char *restrict, char *restrict);
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char a[4096], b[4096];
    errno = 0;
    char *x = realpath(argv[i], a);
    int ea = errno;
    errno = 0;
    char *y = slime_realpath(argv[i], b);
    int eb = errno;
    char *z = slime_realpath(argv[i], NULL);
    printf("%s\\t%s %d\\t%s %d\\t%s\\n", argv[i], x ? a : "-", x ? 0 : ea, y ? b : "-", y ? 0 : eb, z ? z : "-");
    free(z);
  }
  return 0;
}
`;

let tmp: string;
let program: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-realpath-'));
  const renamed = fs.readFileSync(source, 'utf8').replace(/^char \*realpath\(/m, 'char *slime_realpath(');
  fs.writeFileSync(path.join(tmp, 'realpath.c'), renamed);
  fs.writeFileSync(path.join(tmp, 'main.c'), harness);
  program = path.join(tmp, 'compare');
  const cc = spawnSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', program, path.join(tmp, 'main.c'), path.join(tmp, 'realpath.c')], { encoding: 'utf8' });
  expect(cc.stderr).toBe('');
  expect(cc.status).toBe(0);
  const t = path.join(tmp, 'tree');
  fs.mkdirSync(path.join(t, 'd/e'), { recursive: true });
  fs.writeFileSync(path.join(t, 'd/f'), '');
  fs.symlinkSync('d', path.join(t, 'rel'));
  fs.symlinkSync(path.join(t, 'd/e'), path.join(t, 'abs'));
  fs.symlinkSync('loop', path.join(t, 'loop'));
  fs.symlinkSync('../tree/d', path.join(t, 'up'));
  fs.symlinkSync('e/', path.join(t, 'd/slash'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('slime_wasi_realpath.c', () => {
  it('answers as glibc realpath() does, with the result and with the errno', () => {
    const paths = [
      '.', '..', '../d', '../d/e/..', '../rel/e', '../abs/../f', '../loop', '../up/e/', 'f', 'f/', 'f/x', 'nope',
      '../nope/x', '/', '//', '/..', `${tmp}/../${path.basename(tmp)}/tree`, '../../tree/rel/../d/./e', '', 'e/', '../rel', 'slash', 'slash/..',
    ];
    const r = spawnSync(program, paths, { cwd: path.join(tmp, 'tree/d'), encoding: 'utf8' });
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(paths.length);
    for (const [given, glibc, ours, allocated] of rows) {
      const [gPath, gErr] = glibc.split(' ');
      const [oPath, oErr] = ours.split(' ');
      // glibc leaves errno set on success; only a failure's errno is compared.
      expect({ given, path: oPath, errno: oPath === '-' ? oErr : '0' }).toEqual({ given, path: gPath, errno: gPath === '-' ? gErr : '0' });
      expect(allocated).toBe(oPath);
    }
    // The cases that matter to CPython: a relative script path becomes absolute and link-free.
    expect(rows.find((row) => row[0] === '../rel/e')![2]).toBe(`${fs.realpathSync(tmp)}/tree/d/e 0`);
  });
});
