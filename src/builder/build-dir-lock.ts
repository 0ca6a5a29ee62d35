/**
 * Derivations that share a build directory (`env.slimeBuildDir`, a PGO profile and
 * the build that uses it) must not use it at once, even in different processes:
 * they hold this lock, beside the per-derivation lock, while the directory is theirs.
 */
import path from 'node:path';
import { acquireLock, type Lock } from '../store/lock.js';
import type { Store } from '../store/store.js';

export async function lockSharedBuildDir(store: Store, env: Record<string, string>, signal?: AbortSignal): Promise<Lock | undefined> {
  const shared = env.slimeBuildDir;
  if (shared === undefined) return undefined;
  return acquireLock(path.join(store.stateDir, 'locks', `build-dir-${shared}.lock`), { signal });
}
