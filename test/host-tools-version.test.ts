/** A tool that refuses --version (dash as /bin/sh) is recorded by its package's version, not its error message. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostToolResolver, packageVersionOf } from '../src/derivation/host-tools.js';
import { tempDir } from './support/cli.js';

describe('host tool versions', () => {
  it('records /bin/sh by its Debian package, never "Illegal option"', () => {
    const sh = new HostToolResolver().resolve('sh');
    expect(sh.version).not.toMatch(/illegal option/i);
    // On Debian /bin/sh is dash; its package says which dash it is.
    expect(sh.version).toBe(packageVersionOf('/bin/sh') ?? '');
    expect(sh.version).toMatch(/^dash \d/);
  });

  it('keeps the first --version line of a tool that has one', () => {
    expect(new HostToolResolver().resolve('cat').version).toMatch(/^cat \(GNU coreutils\) \d/);
  });

  // The version is part of every derivation's hash: a slow answer (a loaded machine, 8
  // slimes evaluating at once) must give the same version, never an empty one. The old
  // 5 s limit gave '' here, and different store paths for the same module under load.
  it('waits for a slow --version rather than recording no version', () => {
    const dir = tempDir();
    const tool = path.join(dir, 'slowtool');
    fs.writeFileSync(tool, '#!/bin/sh\nsleep 6\necho "slowtool 1.0"\n', { mode: 0o755 });
    expect(new HostToolResolver().resolve(tool).version).toBe('slowtool 1.0');
  }, 60_000);
});
