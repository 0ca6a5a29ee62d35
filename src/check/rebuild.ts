/**
 * Builds a derivation whose outputs are valid once more, exactly as realize-derivation
 * builds it (same build directory, same environment, same temporary `$out`, through
 * the same buildIntoTemporaries), and brings each output into the store's canonical form (hash
 * part rewritten to the final one, mtime 1, read-only) without moving it into place or
 * registering it: what is left is a tree whose NAR hash can be compared with the
 * registered one. The caller owns the returned temporary paths and must delete (or
 * keep) them; everything else the build made is gone when this returns or throws.
 */
import fs from 'node:fs';
import { BuildFailure } from '../errors.js';
import { buildDirFor, ensureBuildRoot } from '../builder/build-dir.js';
import { buildIntoTemporaries, type BuildSettings } from '../builder/build-into-temporaries.js';
import { assertHomelessShelterAbsent, signalOf } from '../builder/run-builder.js';
import type { DrvData } from '../derivation/aterm.js';
import { hashPath } from '../nar/hash.js';
import { breakHardLinks, canonicalise, rewriteHashPart, sriOf } from '../store/add-path.js';
import { hashPartOf } from '../store/paths.js';
import { removeTree, type Store } from '../store/store.js';

export interface RebuildRequest {
  drvPath: string;
  name: string;
  drv: DrvData;
  /** Sources and input derivations' outputs: their closure is what the sandbox shows. */
  inputPaths: string[];
  phases?: string;
  timeoutMs?: number;
}

/** How a rebuild runs: as a build does (the store, events, cores, cancellation, timeout, sandbox). */
export type RebuildOptions = BuildSettings;

export interface RebuiltOutput {
  finalPath: string;
  /** The canonical rebuilt tree, same length as finalPath, in the store's tmp/. */
  tempPath: string;
  narHash: string;
  narSize: number;
}

/** The log of a check's rebuild, beside (never over) the build's own log. */
export function checkLogFile(store: Store, drvPath: string): string {
  return store.logFile(drvPath).replace(/\.log$/, '.check.log');
}

export async function rebuild(req: RebuildRequest, opts: RebuildOptions): Promise<Record<string, RebuiltOutput>> {
  const { store } = opts;
  assertHomelessShelterAbsent();
  const buildDir = buildDirFor(req.drvPath, req.drv.env);
  const logPath = checkLogFile(store, req.drvPath);
  const tempOutputs: Record<string, string> = {};
  for (const [name, out] of Object.entries(req.drv.outputs)) tempOutputs[name] = store.tempPathFor(out.path);
  const discardBuild = () => {
    removeTree(buildDir);
    removeTree(`${buildDir}.tools`);
  };
  const discardOutputs = () => Object.values(tempOutputs).forEach(removeTree);
  let ok = false;
  try {
    ensureBuildRoot();
    discardBuild();
    discardOutputs();
    fs.mkdirSync(buildDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(logPath, '');
    const inputClosure = store.closure(req.inputPaths);
    const { failure, phase } = await buildIntoTemporaries(req, opts, { buildDir, tempOutputs, logPath, inputClosure });
    if (failure) throw new BuildFailure(failure, phase, logPath);
    discardBuild();
    const result: Record<string, RebuiltOutput> = {};
    for (const [name, out] of Object.entries(req.drv.outputs)) {
      const temp = tempOutputs[name];
      // As addPath brings a build's output into the store, short of the rename and the registration.
      await breakHardLinks(temp);
      await rewriteHashPart(temp, store.tempToken(out.path), hashPartOf(out.path));
      await canonicalise(temp, { skipRootMode: true });
      const st = fs.lstatSync(temp);
      if (!st.isSymbolicLink()) fs.chmodSync(temp, st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444);
      if (opts.signal.aborted) throw new BuildFailure({ kind: 'interrupted', signal: signalOf(opts.signal) }, phase, logPath);
      const { narHash, narSize } = await hashPath(temp);
      result[name] = { finalPath: out.path, tempPath: temp, narHash: sriOf(narHash), narSize };
    }
    ok = true;
    return result;
  } finally {
    if (!ok) {
      discardBuild();
      discardOutputs();
    }
  }
}
