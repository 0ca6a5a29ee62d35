/**
 * `phases` names only the reader of a build's output; `comparesSamples` says a
 * derivation writes a sample comparison's report.json, which slime then announces in a
 * `verified` event (issue 8: the phase reader's name doubled as that role). Also through the
 * evaluation cache, which once dropped a field that rides beside the ATerm.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';

const HELLO = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const REPORT = JSON.stringify({
  python: '/usr', isolate: '/usr', timeoutSeconds: 30, total: 1, passed: 1,
  samples: [{
    name: '01_hello', category: 'basics', file: '01_hello.py', args: [], expectedExitCode: 0,
    exitCode: { python: 0, isolate: 0 }, signal: { python: null, isolate: null },
    stdout: { python: { sha256: HELLO, bytes: 6 }, isolate: { sha256: HELLO, bytes: 6 } },
    stderr: { python: { sha256: EMPTY, bytes: 0 }, isolate: { sha256: EMPTY, bytes: 0 } },
    pass: true,
  }],
});

const names = (stderr: string, type: string) =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.type === type)
    .map((e) => path.basename(e.drvPath).replace(/^[0-9a-z]{32}-/, '').replace(/\.drv$/, ''));

describe('comparesSamples', () => {
  it('is what makes slime read a report.json, not the phase reader; also from the evaluation cache', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'roles.ts', `
const writeReport = 'mkdir $out; cat > $out/report.json <<' + "'JSON'\\n" + ${JSON.stringify(REPORT)} + '\\nJSON\\n';
const step = (name: string, extra: object) => derivation({ name, builder: '/bin/sh', args: ['-c', writeReport], tools: ['mkdir', 'cat'], ...extra });
export const compares = step('compares', { comparesSamples: true });
export const readerOnly = step('reader-only', { phases: 'sample-comparison' });
export const targets = [target('t', 'two reports, one comparison', [compares, readerOnly])];`);
    const args = ['realize', 't', '-f', file, '--store', path.join(dir, 'store'), '--log-format', 'json', '--no-link'];
    const first = await slime(args, { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(names(first.stderr, 'built').sort()).toEqual(['compares', 'reader-only']);
    expect(names(first.stderr, 'verified')).toEqual(['compares']);
    // Again: the plan comes from the evaluation cache, the outputs are valid, the report is announced again.
    const second = await slime(args, { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(names(second.stderr, 'cached').sort()).toEqual(['compares', 'reader-only']);
    expect(names(second.stderr, 'verified')).toEqual(['compares']);
  });
});
