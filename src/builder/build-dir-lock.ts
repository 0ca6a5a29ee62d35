/**
 * Derivations that share a build directory (`env.slimeBuildDir`, a PGO profile and
 * the build that uses it) must not use it at once, even in different processes and
 * from different stores: the directory is the user's (`/tmp/slime-build-<uid>/NAME`),
 * not a store's, so its lock is the user's too (`/tmp/slime-build-<uid>/NAME.lock`),
 * held beside the per-derivation lock while the directory is theirs.
 */
import path from 'node:path';
import { acquireLock, type Lock } from '../store/lock.js';
import { buildRoot, ensureBuildRoot } from './build-dir.js';

export async function lockSharedBuildDir(env: Record<string, string>, opts: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<Lock | undefined> {
  const shared = env.slimeBuildDir;
  if (shared === undefined) return undefined;
  ensureBuildRoot();
  return acquireLock(path.join(buildRoot(), `${shared}.lock`), opts);
}
