/**
 * The pinned CPython sources: where no mirror answers (python.org is unreachable on
 * this project's machines), realize fails at once and names every mirror it tried,
 * instead of hanging or building anything.
 */
import { describe, expect, it } from 'vitest';
import { ROOT, slime, tempDir } from './support/cli.js';

describe('CPython 3.12.3 source (python.org only)', () => {
  it('fails fast at the fetch, naming the mirror, and builds nothing after it', async () => {
    const r = await slime(['realize', 'full-x86_64-py312', '--store', tempDir() + '/store', '--no-link', '--log-format', 'plain'], { cwd: ROOT });
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/error: Python-3\.12\.3\.tgz failed during fetch: fetch failed: https:\/\/www\.python\.org\/ftp\/python\/3\.12\.3\/Python-3\.12\.3\.tgz: /);
    expect(r.stderr).toContain('were not built because a dependency failed');
    expect(r.stderr).not.toMatch(/\[cpython-3\.12\.3-pgo-lto\] building/);
  });
});
