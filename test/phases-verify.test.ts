import { describe, expect, it } from 'vitest';
import verify from '../src/builder/phases/verify.js';
import { recognizerFor } from '../src/builder/phases/index.js';

describe('verify phase recognizer', () => {
  it('reads the total, counts passes and failures, and ends with the summary', () => {
    const read = verify();
    expect(read('slime-verify: 3 samples')).toEqual({ phase: 'verify', done: 0, total: 3, passed: 0 });
    expect(read('slime-verify: [1/3] pass hybrid_demo')).toEqual({ phase: 'verify', done: 1, total: 3, passed: 1 });
    expect(read('slime-verify: [2/3] fail 12_singledispatch: stdout differs at line 2')).toEqual({ phase: 'verify', done: 2, total: 3, passed: 1 });
    expect(read('slime-verify: [3/3] pass 05_keyboard_interrupt\r\n')).toEqual({ phase: 'verify', done: 3, total: 3, passed: 2 });
    expect(read('slime-verify: 2/3 bit-exact')).toEqual({ phase: 'verify', done: 3, total: 3, passed: 2 });
  });

  it('takes the summary line as the final count even when progress lines were missed', () => {
    const read = verify();
    expect(read('slime-verify: [67/67] pass 13_recursion_depth')).toEqual({ phase: 'verify', done: 67, total: 67, passed: 1 });
    expect(read('slime-verify: 66/67 bit-exact')).toEqual({ phase: 'verify', done: 67, total: 67, passed: 66 });
  });

  it('ignores the difference details and errors verify.py writes on stderr, and other output', () => {
    const read = verify();
    for (const line of [
      'slime-verify: 12_singledispatch (realworld/12_singledispatch.py): stdout differs at line 2',
      "slime-verify:     python:  int:+1",
      'slime-verify: error: the isolate /x/bin/isolate does not exist or is not executable',
      'slime-verify: 1 of 67 samples are not bit-exact: 12_singledispatch; the differences are listed above',
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
    a('slime-verify: [1/2] pass x');
    expect(b('slime-verify: [1/2] fail y: exit differs: python 0, isolate 1')).toEqual({ phase: 'verify', done: 1, total: 2, passed: 0 });
    expect(a('slime-verify: [2/2] pass z')?.passed).toBe(2);
  });

  it('is the recognizer derivations name with phases: "verify"', () => {
    expect(recognizerFor('verify')?.('slime-verify: [1/1] pass x')).toEqual({ phase: 'verify', done: 1, total: 1, passed: 1 });
  });
});
