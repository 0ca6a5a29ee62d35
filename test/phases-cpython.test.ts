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

  it('ignores the compiler lines and the make output of a quick build', () => {
    const read = cpython();
    for (const line of [
      'checking build system type... x86_64-pc-linux-gnu',
      'gcc -c -Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -o Objects/abstract.o Objects/abstract.c',
      'renaming build/scripts-3.11/2to3 to build/scripts-3.11/2to3-3.11',
      'slime: phase unknown',
      '',
    ]) {
      expect(read(line), line).toBeUndefined();
    }
  });

  it('is what a derivation gets by naming the `cpython` recognizer', () => {
    expect(recognizerFor('cpython')?.('slime: phase configure')).toEqual({ phase: 'configure' });
  });
});
