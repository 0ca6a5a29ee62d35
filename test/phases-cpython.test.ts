import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import cpython from '../src/builder/phases/cpython.js';
import { recognizerFor } from '../src/builder/phases/index.js';
import type { PhaseUpdate } from '../src/builder/phases/types.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'phases');

/** Feeds a captured log through a fresh recognizer and keeps every update, in order. */
function updates(file: string): PhaseUpdate[] {
  const read = cpython();
  const out: PhaseUpdate[] = [];
  for (const line of fs.readFileSync(path.join(fixtures, file), 'utf8').split('\n')) {
    const u = read(line);
    if (u) out.push(u);
  }
  return out;
}

describe('cpython phase recognizer', () => {
  it('follows a quick build (no PGO) through unpack, configure, make and install', () => {
    // Excerpt of derivations/cpython/build.sh with configureFlags empty.
    expect(updates('cpython-quick.txt')).toEqual([
      { phase: 'unpack' },
      { phase: 'configure' },
      { phase: 'make' },
      { phase: 'install' },
    ]);
  });

  it('follows a PGO+LTO build through the instrumented build, the profile run test by test, and the rebuild', () => {
    // Excerpts of derivations/cpython/build.sh with --enable-optimizations --with-lto.
    expect(updates('cpython-pgo-lto.txt')).toEqual([
      { phase: 'unpack' },
      { phase: 'configure' },
      { phase: 'make' },
      { phase: 'profile' },
      ...Array.from({ length: 44 }, (_, i) => ({ phase: 'profile', done: i, total: 44 })),
      { phase: 'profile', done: 44, total: 44 },
      { phase: 'lto-relink' },
      { phase: 'install' },
    ]);
  });

  it('does not count regrtest lines that are not tests, nor a duration without a profile run', () => {
    const read = cpython();
    expect(read('0:00:00 load avg: 2.58 Run tests sequentially (timeout: 20 min)')).toBeUndefined();
    expect(read('Total duration: 1 min 52 sec')).toBeUndefined();
    expect(read('0:00:40 [24/44] test_itertools')).toEqual({ phase: 'profile', done: 23, total: 44 });
  });

  it('ignores the compiler lines and the make output of a quick build', () => {
    const read = cpython();
    for (const line of [
      'checking build system type... x86_64-pc-linux-gnu',
      'gcc -c -Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -o Objects/abstract.o Objects/abstract.c',
      'renaming build/scripts-3.11/2to3 to build/scripts-3.11/2to3-3.11',
      'slime: phase unknown',
      // printed before the instrumented build starts compiling: still `make`
      'Running code to generate profile data (this can take a while):',
      'Building with support for profile generation:',
      '',
    ]) {
      expect(read(line), line).toBeUndefined();
    }
  });

  it('is what a derivation gets by naming the `cpython` recognizer', () => {
    expect(recognizerFor('cpython')?.('slime: phase configure')).toEqual({ phase: 'configure' });
  });
});
