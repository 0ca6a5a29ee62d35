import { describe, expect, it } from 'vitest';
import cpythonTests from '../src/builder/phases/cpython-tests.js';
import { recognizerFor } from '../src/builder/phases/index.js';

describe('cpython-tests phase recognizer', () => {
  it('reads the total, counts same and differing verdicts, and ends with the summary', () => {
    const read = cpythonTests();
    expect(read('slime-cpython-tests: 3 modules')).toEqual({ phase: 'cpython-tests', done: 0, total: 3, passed: 0 });
    expect(read('slime-cpython-tests: [1/3] same test_dict: passed  (1.2 s / 1.3 s)')).toEqual({ phase: 'cpython-tests', done: 1, total: 3, passed: 1 });
    expect(read('slime-cpython-tests: [2/3] differ test_subprocess: python passed, isolate failed')).toEqual({ phase: 'cpython-tests', done: 2, total: 3, passed: 1 });
    expect(read('slime-cpython-tests: [3/3] same test_x: skipped\r\n')).toEqual({ phase: 'cpython-tests', done: 3, total: 3, passed: 2 });
    expect(read('slime-cpython-tests: 2/3 same verdict')).toEqual({ phase: 'cpython-tests', done: 3, total: 3, passed: 2 });
  });

  it('ignores the details and errors on stderr, and other output', () => {
    const read = cpythonTests();
    for (const line of [
      'slime-cpython-tests: test_subprocess: differs: test_empty_env (test.test_subprocess.ProcessTestCase.test_empty_env)',
      'slime-cpython-tests: error: the isolate /x/bin/isolate does not exist or is not executable',
      'slime-cpython-tests: 1 of 3 test modules differ: test_subprocess; their outputs are in /b/tests-work',
      '== Tests result: SUCCESS ==',
      '',
    ]) {
      expect(read(line), line).toBeUndefined();
    }
  });

  it("is the recognizer of phases: 'cpython-tests'", () => {
    expect(recognizerFor('cpython-tests')!('slime-cpython-tests: 5 modules')).toEqual({ phase: 'cpython-tests', done: 0, total: 5, passed: 0 });
  });
});
