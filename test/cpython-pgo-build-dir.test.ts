/**
 * derivations/cpython/pgo.sh, optimize stage: a PGO profile taken in another build
 * directory is refused before anything is built. The extension modules' counters are
 * named by the absolute path of the profile run's build directory (/build in the
 * sandbox, /tmp/slime-build-<uid>/... with --no-sandbox); GCC does not find them
 * elsewhere and builds those modules without their profile, warning only.
 * The script runs as the builder runs it (`sh -e pgo.sh`, cwd and NIX_BUILD_TOP the
 * build directory), with a profile tree of empty counter files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/cli.js';

const pgoSh = path.join(ROOT, 'derivations/cpython/pgo.sh');
const stepsSh = path.join(ROOT, 'derivations/cpython/steps.sh');

let tmp: string;
beforeAll(() => {
  tmp = tempDir('slime-pgo-dir-test-');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A profile tree as the profile stage leaves it, taken in the build directory `takenIn`. */
function profileTakenIn(name: string, takenIn: string): string {
  const dir = path.join(tmp, name);
  const files = [
    'Python/ceval.gcda',
    'Modules/getbuildinfo.gcda',
    `build/temp.linux-x86_64-3.11${takenIn}/Python-3.11.2/Modules/_struct.gcda`,
    `build/temp.linux-x86_64-3.11${takenIn}/Python-3.11.2/Modules/mathmodule.gcda`,
  ];
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '');
  }
  return dir;
}

function optimize(name: string, profile: string) {
  const top = path.join(tmp, `${name}-build`);
  const out = path.join(tmp, `${name}-out`);
  fs.mkdirSync(top);
  const r = spawnSync('/bin/sh', ['-e', pgoSh], {
    cwd: top,
    encoding: 'utf8',
    env: {
      PATH: '/usr/bin:/bin',
      HOME: '/homeless-shelter',
      NIX_BUILD_TOP: top,
      out,
      // Never unpacked when the profile is refused; a missing file stops the build right after the check otherwise.
      src: path.join(tmp, 'Python-3.11.2.tgz'),
      steps: stepsSh,
      patches: '',
      configureFlags: '--enable-optimizations --with-lto',
      pgoStage: 'optimize',
      profile,
      randomSeed: '0123456789abcdef',
    },
  });
  return { ...r, top, out };
}

it('refuses a profile taken in the sandbox (/build) when the build runs elsewhere, naming both and what to do', () => {
  const profile = profileTakenIn('from-sandbox', '/build');
  const r = optimize('unsandboxed', profile);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`slime: error: the PGO profile ${profile} was taken in the build directory /build, and this build runs in ${r.top}:`);
  expect(r.stderr).toContain('without its profile');
  expect(r.stderr).toContain(`\`slime store delete ${profile}\``);
  expect(r.stderr).toContain('--no-substitute');
  // Nothing started: no unpack, no output.
  expect(r.stdout).not.toContain('slime: phase unpack');
  expect(fs.existsSync(r.out)).toBe(false);
  expect(fs.readdirSync(r.top)).toEqual([]);
});

it('takes a profile taken in the same build directory (the build goes on to unpack the source)', () => {
  const top = path.join(tmp, 'same-build');
  const profile = profileTakenIn('from-here', top);
  const r = optimize('same', profile);
  expect(r.stderr).not.toContain('PGO profile');
  expect(r.stdout).toContain('slime: phase unpack');
  // The stand-in source does not exist: tar stops the build there.
  expect(r.status).not.toBe(0);
});

it('takes a profile without extension modules\' counters (nothing to compare)', () => {
  const profile = path.join(tmp, 'core-only');
  fs.mkdirSync(path.join(profile, 'Python'), { recursive: true });
  fs.writeFileSync(path.join(profile, 'Python/ceval.gcda'), '');
  const r = optimize('core-only', profile);
  expect(r.stderr).not.toContain('PGO profile');
  expect(r.stdout).toContain('slime: phase unpack');
});
