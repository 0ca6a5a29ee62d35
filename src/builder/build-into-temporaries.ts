/**
 * One derivation's builder run into its temporary outputs, as both a build
 * (realize-derivation.ts) and `slime check`'s rebuild (check/rebuild.ts) run it: the
 * same environment and sandbox, the log and phase events, the process group recorded
 * beside the lock for as long as the builder runs (orphans.ts), and every declared
 * output required. What happens to the temporaries afterwards is the caller's.
 */
import type { DrvData } from '../derivation/aterm.js';
import type { FailureReason, SlimeEvent } from '../events.js';
import { existsNoFollow } from '../store/store.js';
import type { Store } from '../store/store.js';
import { clearBuildGroup, recordBuildGroup } from './orphans.js';
import { recognizerFor } from './phases/index.js';
import { runBuilder } from './run-builder.js';
import { sandboxWanted } from './sandbox.js';

/** What is built: the fields a build request and a rebuild request share. */
export interface BuiltDerivation {
  drvPath: string;
  drv: DrvData;
  /** Which phase recognizer reads the build's lines (see phases/). */
  phases?: string;
  timeoutMs?: number;
}

/** How: the fields the build options and the rebuild options share. */
export interface BuildSettings {
  store: Store;
  emit: (e: SlimeEvent) => void;
  cores: number;
  signal: AbortSignal;
  /** Overrides the derivation's own timeout. */
  timeoutMs?: number;
  /** Run in the build sandbox; by default as SLIME_SANDBOX says, else on (Linux). */
  sandbox?: boolean;
}

/** Where: prepared by the caller. */
export interface BuildPlaces {
  buildDir: string;
  /** Output name -> the temporary path the builder writes to. */
  tempOutputs: Record<string, string>;
  logPath: string;
  /** What the builder may see of the store: the closure of its inputs. */
  inputClosure: Iterable<string>;
}

/** Why the build failed (undefined: it succeeded and wrote every output), and the last phase it reached. */
export async function buildIntoTemporaries(
  req: BuiltDerivation,
  opts: BuildSettings,
  at: BuildPlaces,
): Promise<{ failure?: FailureReason; phase?: string }> {
  const { drvPath, drv } = req;
  const { store, emit } = opts;
  const recognize = recognizerFor(req.phases);
  let phase: string | undefined;
  let reason: FailureReason | null;
  try {
    reason = await runBuilder({
      drvPath,
      drv,
      buildDir: at.buildDir,
      tempOutputs: at.tempOutputs,
      storeDir: store.dir,
      inputClosure: at.inputClosure,
      sandbox: opts.sandbox ?? sandboxWanted(false, process.env),
      cores: opts.cores,
      logFile: at.logPath,
      timeoutMs: opts.timeoutMs ?? req.timeoutMs,
      signal: opts.signal,
      onSpawn: (pid) => recordBuildGroup(store, drvPath, pid),
      onLine: (stream, line) => {
        emit({ type: 'log', time: Date.now(), drvPath, stream, line });
        const update = recognize?.(line);
        if (update) {
          phase = update.phase;
          emit({ type: 'phase', time: Date.now(), drvPath, ...update });
        }
      },
    });
  } catch (e) {
    reason = { kind: 'internal', message: `cannot run the builder of ${drvPath}: ${(e as Error).message}` };
  } finally {
    clearBuildGroup(store, drvPath);
  }
  if (reason) return { failure: reason, phase };
  const missing = Object.keys(at.tempOutputs).find((o) => !existsNoFollow(at.tempOutputs[o]));
  return { failure: missing ? { kind: 'no-output', output: missing } : undefined, phase };
}
