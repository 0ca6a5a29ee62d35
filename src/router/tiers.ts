/**
 * The realized tiers as the router runs them: where the binaries are in the store and
 * how to start one on a script. Found from a target's derivations, never from copies:
 * the store path is what runs.
 *
 * Full: the target's comparison of the isolate's samples names `python` (its CPython) and `isolate`.
 * Light: the target's comparison of the Light tier's samples names `runner`, a launcher whose
 * `bin/python3.11` runs CPython-wasi under wasmtime with python3.11's command line
 * (derivations/light/launcher.sh); its `report.json` says which samples differ there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SlimeError } from '../errors.js';
import type { GraphNode } from '../scheduler/plan.js';
import type { Store } from '../store/store.js';
import type { LightCapabilities } from './policy.js';
import type { TierCommand } from './run-script.js';
import { hashFileHex } from './hash-file.js';

export interface RealizedTier {
  tier: 'full' | 'light';
  /** The Full tier's python3.11: the router parses scripts with it. */
  python: string;
  /** What the binary is, for messages: a store path. */
  storePath: string;
  command(script: string, args: string[]): TierCommand;
  capabilities?: LightCapabilities;
}

/** The Full tier of a target that verifies an isolate (full-x86_64, full-x86_64-quick). */
export function fullTierOf(nodes: GraphNode[], target: string): RealizedTier {
  const verify = nodes.find((n) => n.drv.env.isolate && n.drv.env.python);
  if (!verify) throw new SlimeError(`target ${target} compares no isolate's samples, so it is not a Full tier; pass --full full-x86_64 or full-x86_64-quick`);
  const { python, isolate } = verify.drv.env;
  return {
    tier: 'full',
    python: path.join(python, 'bin/python3.11'),
    storePath: isolate,
    command: (script, args) => ({ file: path.join(isolate, 'bin/isolate'), args: [script, ...args] }),
  };
}

/** The wasmtime runner is the Light tier's default: the one that is a sandbox. */
const PREFERRED_RUNNER = /wasmtime \(AOT\)/;

export function lightTierOf(nodes: GraphNode[], target: string, store: Store, fullPython: string): RealizedTier {
  const verifications = nodes.filter((n) => n.drv.env.runner && n.drv.env.samples);
  const verify = verifications.find((n) => PREFERRED_RUNNER.test(n.drv.env.runnerLabel ?? '')) ?? verifications[0];
  if (!verify) throw new SlimeError(`target ${target} compares no Light tier's samples, so it is not a Light tier; pass --light light-wasm32, or --tier full`);
  const runner = verify.drv.env.runner;
  const launcher = path.join(runner, 'bin/python3.11');
  return {
    tier: 'light',
    python: fullPython,
    storePath: runner,
    // The isolate hashes with seed 0 (as verified); the Light tier is given the same seed.
    command: (script, args) => ({ file: launcher, args: [script, ...args], env: { ...process.env, PYTHONHASHSEED: '0' } }),
    capabilities: {
      missingModules: missingModulesOf(store, launcher, fullPython),
      differingSamples: differingSamplesOf(verify.outputs.out, verify.drv.env.samples),
    },
  };
}

/**
 * The standard-library modules that fail to import on the Light tier, found by importing
 * every name of the Full tier's `sys.stdlib_module_names` there once per Light build
 * (kept under `.slime/router/`, keyed by the launcher's store path).
 */
function missingModulesOf(store: Store, launcher: string, fullPython: string): Record<string, string> {
  const cacheFile = path.join(store.stateDir, 'router', `light-modules-${path.basename(path.dirname(path.dirname(launcher)))}.json`);
  try {
    return JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, string>;
  } catch {
    // not probed yet (or damaged): probe again
  }
  const names = execFileSync(fullPython, ['-I', '-c', 'import sys; print("\\n".join(sorted(sys.stdlib_module_names)))'], { encoding: 'utf8' })
    .split('\n')
    .filter((n) => n && !SKIP_PROBE.has(n));
  const probe = `import importlib, io, json, sys
missing = {}
real = sys.stdout
for name in ${JSON.stringify(names)}:
    sys.stdout = io.StringIO()
    try:
        importlib.import_module(name)
    except BaseException as e:
        missing[name] = f"{type(e).__name__}: {e}"
    finally:
        sys.stdout = real
real.write(json.dumps(missing))
`;
  let out: string;
  try {
    out = execFileSync(launcher, ['-I', '-c', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: store.stateDir });
  } catch (e) {
    throw new SlimeError(`cannot list the Light tier's modules with ${launcher}: ${((e as { stderr?: string }).stderr || (e as Error).message).trim()}`);
  }
  const missing = JSON.parse(out) as Record<string, string>;
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(missing, null, 1));
  fs.renameSync(tmp, cacheFile);
  return missing;
}

/** Modules whose import does something to the host or the terminal (a browser, a Tk window). */
const SKIP_PROBE = new Set(['antigravity', 'this', 'idlelib', 'tkinter', 'turtle', 'turtledemo']);

interface LightReport {
  samples: { file: string; pass: boolean; outcome?: string; firstDifference?: { stream: string; line?: number } }[];
}

/** Samples the Light tier's comparison did not find bit-exact, by the sha256 of their bytes. */
function differingSamplesOf(verification: string, samples: string): Record<string, string> {
  let report: LightReport;
  try {
    report = JSON.parse(fs.readFileSync(path.join(verification, 'report.json'), 'utf8')) as LightReport;
  } catch (e) {
    throw new SlimeError(`the Light tier's sample comparison report ${path.join(verification, 'report.json')} is unreadable (${(e as Error).message}); realize the Light target again`);
  }
  const differing: Record<string, string> = {};
  for (const s of report.samples) {
    if (s.pass) continue;
    const where = s.firstDifference ? `${s.firstDifference.stream}${s.firstDifference.line ? ` line ${s.firstDifference.line}` : ''} differs` : 'differs';
    differing[hashFileHex(path.join(samples, s.file))] = `sample ${s.file}: ${s.outcome ?? 'not bit-exact'}, ${where}`;
  }
  return differing;
}
