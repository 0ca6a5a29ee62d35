/** A tool that refuses --version (dash as /bin/sh) is recorded by its package's version, not its error message. */
import { describe, expect, it } from 'vitest';
import { HostToolResolver, packageVersionOf } from '../src/derivation/host-tools.js';

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
});
