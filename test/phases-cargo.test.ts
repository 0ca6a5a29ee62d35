import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import cargo from '../src/builder/phases/cargo.js';
import { recognizerFor } from '../src/builder/phases/index.js';
import type { PhaseUpdate } from '../src/builder/phases/types.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'phases');

/** Feeds a captured log through a fresh recognizer and keeps every update, in order. */
function updates(file: string): PhaseUpdate[] {
  const read = cargo();
  const out: PhaseUpdate[] = [];
  for (const line of fs.readFileSync(path.join(fixtures, file), 'utf8').split('\n')) {
    const u = read(line);
    if (u) out.push(u);
  }
  return out;
}

describe('cargo phase recognizer', () => {
  it('counts the crates of a real isolate build against the announced total, then sees the link', () => {
    // derivations/isolate/build.sh on the quick CPython: cargo build --release -v, 10 packages.
    expect(updates('isolate-cargo.txt')).toEqual([
      { phase: 'compile', done: 0, total: 10 },
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((done) => ({ phase: 'compile', done, total: 10 })),
      { phase: 'link' },
    ]);
  });

  it('does not take the rustc runs of build scripts, which are bins too, for the link', () => {
    const read = cargo();
    expect(
      read(
        '     Running `rustc --crate-name build_script_build --edition=2021 build.rs --error-format=json --crate-type bin --emit=dep-info,link -C embed-bitcode=no`',
      ),
    ).toBeUndefined();
    expect(
      read('     Running `rustc --crate-name pyo3 --edition=2021 /vendor/pyo3-0.22.6/src/lib.rs --crate-type lib --emit=dep-info,metadata,link`'),
    ).toBeUndefined();
  });

  it('never reports more crates done than the total, and counts without a total when none was announced', () => {
    const read = cargo();
    expect(read('   Compiling libc v0.2.191')).toEqual({ phase: 'compile', done: 1 });
    expect(read('slime: 1 crates')).toEqual({ phase: 'compile', done: 1, total: 1 });
    expect(read('   Compiling libc v0.2.191')).toEqual({ phase: 'compile', done: 1, total: 1 });
  });

  it('ignores cargo chatter and the Finished line', () => {
    const read = cargo();
    for (const line of ['    Finished `release` profile [optimized] target(s) in 27.32s', 'warning: unused import', '']) {
      expect(read(line), line).toBeUndefined();
    }
  });

  it('is what a derivation gets by naming the `cargo` recognizer', () => {
    expect(recognizerFor('cargo')?.('slime: 3 crates')).toEqual({ phase: 'compile', done: 0, total: 3 });
  });
});
