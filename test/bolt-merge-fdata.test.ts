/**
 * derivations/bolt/merge_fdata.py: sums the per-process BOLT profiles of the
 * instrumented isolate (Debian's bolt-19 ships no merge-fdata), deterministically.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/cli.js';

const MERGE = path.join(ROOT, 'derivations/bolt/merge_fdata.py');

function merge(files: Record<string, string>) {
  const dir = tempDir();
  const paths = Object.entries(files).map(([name, text]) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  });
  return spawnSync('/usr/bin/python3.11', [MERGE, ...paths], { encoding: 'utf8' });
}

describe('merge_fdata.py', () => {
  it('adds the counts of the same branch across processes and sorts, whatever the order of the files', () => {
    const a = '1 main 10 1 main 20 0 5\n1 insertdict/1 43 1 insertdict/1 bb 0 7\n';
    const b = '1 insertdict/1 43 1 insertdict/1 bb 0 3\n1 _init/1 e 1 _init/1 12 0 1\n';
    const r = merge({ 'a.fdata': a, 'b.fdata': b });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('1 _init/1 e 1 _init/1 12 0 1\n1 insertdict/1 43 1 insertdict/1 bb 0 10\n1 main 10 1 main 20 0 5\n');
    expect(merge({ 'b.fdata': b, 'a.fdata': a }).stdout).toBe(r.stdout);
  });

  it('fails, naming the files, when no process wrote a count', () => {
    const r = merge({ 'empty.fdata': '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/merge_fdata\.py: no branch counts in \S+empty\.fdata; did the instrumented binary run\?/);
  });
});
