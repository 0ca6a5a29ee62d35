/**
 * `phases` names only the reader of a build's output; `comparesSamples` says a
 * derivation writes a sample comparison's report.json, which slime then announces in a
 * `verified` event (issue 8: the phase reader's name doubled as that role). Also through the
 * evaluation cache, which once dropped a field that rides beside the ATerm.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';
import { ONE_SAMPLE_REPORT as REPORT } from './support/report.js';

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
