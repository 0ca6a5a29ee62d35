/**
 * Where builds run on the host: `/tmp/slime-build-<uid>/<hash>-<name>/`, one root per
 * user with mode 0700, so that users of one machine neither collide (a root made by
 * another user is not writable) nor read each other's builds. A sandboxed build sees
 * its directory at `/build` whatever the host path is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

export function buildRoot(): string {
  return `/tmp/slime-build-${process.getuid?.() ?? 'user'}`;
}

/**
 * Where the build of `drvPath` runs: the path depends only on the derivation and the
 * user. `env.slimeBuildDir` (a plain name) lets derivations share one directory: a PGO
 * profile and the build that uses it must see the same absolute paths.
 */
export function buildDirFor(drvPath: string, env?: Record<string, string>): string {
  const shared = env?.slimeBuildDir;
  if (shared !== undefined) {
    if (!/^[A-Za-z0-9+_.=-]+$/.test(shared) || shared.startsWith('.')) {
      throw new SlimeError(`derivation ${drvPath}: slimeBuildDir "${shared}" must be a plain directory name (letters, digits, + _ . = -, not starting with a dot); fix its env`);
    }
    return path.join(buildRoot(), shared);
  }
  return path.join(buildRoot(), path.basename(drvPath, '.drv'));
}

/** Creates the root (mode 0700) or checks that the existing one is ours and private. */
export function ensureBuildRoot(): void {
  const root = buildRoot();
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(root);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new SlimeError(
      `the build directory root ${root} is ${st.isDirectory() ? `owned by uid ${st.uid}, not you (uid ${uid})` : 'not a directory'}; ` +
        `someone else made it: remove it (as its owner or root) and build again`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) fs.chmodSync(root, 0o700);
}
