import { describe, expect, it } from 'vitest';
import verify from '../src/builder/phases/sample-comparison.js';
import { recognizerFor } from '../src/builder/phases/index.js';

describe('verify phase recognizer', () => {
  it('reads the total, counts passes and failures, and ends with the summary', () => {
    const read = verify();
    expect(read('slime-compare: 3 samples')).toEqual({ phase: 'compare', done: 0, total: 3, passed: 0 });
    expect(read('slime-compare: [1/3] pass hybrid_demo')).toEqual({ phase: 'compare', done: 1, total: 3, passed: 1 });
    expect(read('slime-compare: [2/3] fail 12_singledispatch: stdout differs at line 2')).toEqual({ phase: 'compare', done: 2, total: 3, passed: 1 });
    expect(read('slime-compare: [3/3] pass 05_keyboard_interrupt\r\n')).toEqual({ phase: 'compare', done: 3, total: 3, passed: 2 });
    expect(read('slime-compare: 2/3 bit-exact')).toEqual({ phase: 'compare', done: 3, total: 3, passed: 2 });
  });

  it('takes the summary line as the final count even when progress lines were missed', () => {
    const read = verify();
    expect(read('slime-compare: [67/67] pass 13_recursion_depth')).toEqual({ phase: 'compare', done: 67, total: 67, passed: 1 });
    expect(read('slime-compare: 66/67 bit-exact')).toEqual({ phase: 'compare', done: 67, total: 67, passed: 66 });
  });

  it('ignores the difference details and errors compare.py writes on stderr, and other output', () => {
    const read = verify();
    for (const line of [
      'slime-compare: 12_singledispatch (realworld/12_singledispatch.py): stdout differs at line 2',
      "slime-compare:     python:  int:+1",
      'slime-compare: error: the isolate /x/bin/isolate does not exist or is not executable',
      'slime-compare: 1 of 67 samples are not bit-exact: 12_singledispatch; the differences are listed above',
      'static=100|dynamic=60|sum=160',
      '[3/67] pass hybrid_demo',
      '',
    ]) {
      expect(read(line), line).toBeUndefined();
    }
  });

  it('keeps separate counts for separate builds', () => {
    const a = verify();
    const b = verify();
    a('slime-compare: [1/2] pass x');
    expect(b('slime-compare: [1/2] fail y: exit differs: python 0, isolate 1')).toEqual({ phase: 'compare', done: 1, total: 2, passed: 0 });
    expect(a('slime-compare: [2/2] pass z')?.passed).toBe(2);
  });

  it('is the recognizer derivations name with phases: "verify"', () => {
    expect(recognizerFor('sample-comparison')?.('slime-compare: [1/1] pass x')).toEqual({ phase: 'compare', done: 1, total: 1, passed: 1 });
  });
});
