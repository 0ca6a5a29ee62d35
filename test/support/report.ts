/** A sample comparison's report.json (src/comparison/report.ts) of one passing sample, as a builder writes it. */
const HELLO = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const ONE_SAMPLE_REPORT = JSON.stringify({
  python: '/usr', isolate: '/usr', timeoutSeconds: 30, total: 1, passed: 1,
  samples: [{
    name: '01_hello', category: 'basics', file: '01_hello.py', args: [], expectedExitCode: 0,
    exitCode: { python: 0, isolate: 0 }, signal: { python: null, isolate: null },
    stdout: { python: { sha256: HELLO, bytes: 6 }, isolate: { sha256: HELLO, bytes: 6 } },
    stderr: { python: { sha256: EMPTY, bytes: 0 }, isolate: { sha256: EMPTY, bytes: 0 } },
    pass: true,
  }],
});
