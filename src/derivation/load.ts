/**
 * Loads a derivation module (the project's `derivations/index.ts`, or `-f FILE`) and
 * resolves what the user asked for: a target name, an exported derivation, or a
 * `.drv` store path already written by an earlier run.
 *
 * A module exports `targets` (an array of `target(...)`) and may export derivations
 * by name. TypeScript modules are bundled by esbuild and run in this process
 * (module-bundle.ts), so users write derivations in the same language as slime
 * without a build step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import type { Derivation, Target } from './api.js';
import type { RunnableModule } from './module-bundle.js';
import { EvalCache, userEvalCacheDir } from './eval-cache.js';
import { HostToolResolver, userToolCacheFile } from './host-tools.js';
import { checkTargets, moduleLoadError } from './module-errors.js';
import { didYouMean } from '../suggest.js';

export interface LoadedModule {
  file: string;
  targets: Target[];
  derivations: Map<string, Derivation>;
}

export function defaultModule(projectRoot: string): string {
  return path.join(projectRoot, 'derivations', 'index.ts');
}

/**
 * Evaluates the module, or takes its plan from the evaluation cache in `evalCacheDir`
 * (eval-cache.ts) when nothing it read has changed.
 */
export async function loadModule(file: string, storeDir: string, toolCacheFile?: string, evalCacheDir?: string): Promise<LoadedModule> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) {
    throw new UsageError(`derivation module ${file} does not exist; pass an existing file with -f FILE`);
  }
  const tools = new HostToolResolver(toolCacheFile, [], userToolCacheFile());
  const userDir = userEvalCacheDir();
  const cache = (evalCacheDir || userDir) && EvalCache.enabled() ? new EvalCache(evalCacheDir, userDir, abs, storeDir) : undefined;
  // Written to the descriptor: reading process.stderr would load Node's streams, which a no-op does without (cli/stdio.ts).
  const trace = process.env.SLIME_TRACE_EVAL_CACHE === '1' ? (m: string) => fs.writeSync(2, `eval-cache: ${m}\n`) : undefined;
  if (cache) {
    const found = cache.lookup(tools);
    trace?.(found.why === 'hit' ? (found.from === 'user' ? "hit (the user's cache)" : 'hit') : `miss: ${found.why}`);
    if (found.plan) return { file: abs, targets: found.plan.targets, derivations: found.plan.derivations };
  }
  const evaluationStart = Date.now();
  // The evaluation's machinery is loaded only when the cache cannot answer.
  const api = await import('./api.js');
  // Made runnable before the environment is watched: the bundler's own reads are not the module's.
  const runnable = await runnableModule(abs);
  const envReads = watchEnv();
  let mod: LoadedModule;
  try {
    mod = await evaluate(api, runnable.url, abs, storeDir, tools);
  } finally {
    envReads.stop();
    runnable.remove();
  }
  if (cache) {
    if (envReads.listed) {
      trace?.('not saved: the module listed the whole environment');
      return mod;
    }
    const files = runnable.files ?? (await javaScriptModuleFiles(abs));
    if (files === undefined) {
      trace?.('not saved: esbuild cannot list the files the module imports');
      return mod;
    }
    const reads = api.evaluationReads();
    for (const name of envReads.names) reads.env[name] ??= envReads.values.get(name);
    const kept = cache.save({ targets: mod.targets, derivations: mod.derivations }, { files, ...reads }, tools, evaluationStart);
    trace?.(kept ? 'saved' : 'not saved: an input changed during the evaluation');
  }
  return mod;
}

/**
 * Records which environment variables the evaluation reads (process.env is watched
 * while it runs), so that the evaluation cache is invalidated when one changes even
 * if the module did not declare it with evaluationEnv. A module that lists the whole
 * environment cannot be cached.
 */
function watchEnv(): { names: Set<string>; values: Map<string, string | undefined>; listed: boolean; stop(): void } {
  const real = process.env;
  const seen = { names: new Set<string>(), values: new Map<string, string | undefined>(), listed: false, stop: () => {} };
  const note = (k: string | symbol) => {
    if (typeof k === 'string' && !seen.names.has(k)) {
      seen.names.add(k);
      seen.values.set(k, real[k]);
    }
  };
  process.env = new Proxy(real, {
    get: (t, k) => (note(k), Reflect.get(t, k)),
    has: (t, k) => (note(k), Reflect.has(t, k)),
    getOwnPropertyDescriptor: (t, k) => (note(k), Reflect.getOwnPropertyDescriptor(t, k)),
    ownKeys: (t) => ((seen.listed = true), Reflect.ownKeys(t)),
  });
  seen.stop = () => {
    process.env = real;
  };
  return seen;
}

async function evaluate(api: typeof import('./api.js'), url: string, abs: string, storeDir: string, tools: HostToolResolver): Promise<LoadedModule> {
  api.beginEvaluation(storeDir, tools);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    // Throws, and slime's API refusing a declaration: one line with the place.
    throw moduleLoadError(e, abs);
  } finally {
    tools.save();
  }
  const targets = checkTargets(mod.targets ?? (mod.default as Record<string, unknown> | undefined)?.targets, abs);
  const derivations = new Map<string, Derivation>();
  for (const [k, v] of Object.entries(mod)) {
    if (isDerivation(v)) derivations.set(k, v);
  }
  return { file: abs, targets, derivations };
}

/**
 * The files of a JavaScript module, which Node ran as it is (module-bundle.ts lists them
 * as it bundles a TypeScript one); undefined when esbuild cannot resolve them all (a
 * require() Node reached by another way): the plan is then not kept, never kept with a
 * list that may miss a file.
 */
async function javaScriptModuleFiles(abs: string): Promise<string[] | undefined> {
  const { moduleFiles } = await import('./module-bundle.js');
  try {
    return await moduleFiles(abs);
  } catch {
    return undefined;
  }
}

/** A TypeScript module bundled (module-bundle.ts), a JavaScript one as it is; a syntax error is one line with the place. */
async function runnableModule(abs: string): Promise<RunnableModule> {
  if (!/\.[cm]?tsx?$/.test(abs)) return { url: pathToFileURL(abs).href, remove: () => {} };
  const { bundleTypeScriptModule } = await import('./module-bundle.js');
  try {
    return await bundleTypeScriptModule(abs);
  } catch (e) {
    throw moduleLoadError(e, abs);
  }
}

function isDerivation(v: unknown): v is Derivation {
  return typeof v === 'object' && v !== null && (v as Derivation).kind === 'derivation';
}

export interface Resolved {
  name: string;
  derivations: Derivation[];
}

/** A target name, an exported derivation's name, or a derivation's name or `.drv` path. */
export function resolveTarget(mod: LoadedModule, name: string): Resolved {
  const t = mod.targets.find((x) => x.name === name);
  if (t) return { name, derivations: t.derivations };
  const d = mod.derivations.get(name) ?? findByNameOrPath(mod, name);
  if (d) return { name, derivations: [d] };
  const known = mod.targets.map((x) => x.name).join(', ') || '(none)';
  const hint = didYouMean(name, [...mod.targets.map((x) => x.name), ...mod.derivations.keys()]);
  throw new UsageError(`unknown target "${name}" in ${mod.file}${hint}; targets are: ${known} (\`slime targets\` lists them with descriptions)`);
}

function findByNameOrPath(mod: LoadedModule, name: string): Derivation | undefined {
  const all = allDerivations(mod);
  return all.find((d) => d.drvPath === name || d.name === name);
}

/** Every derivation reachable from the module's targets and exports. */
export function allDerivations(mod: LoadedModule): Derivation[] {
  const seen = new Map<string, Derivation>();
  const visit = (d: Derivation) => {
    if (seen.has(d.drvPath)) return;
    seen.set(d.drvPath, d);
    d.inputDerivations.forEach(visit);
  };
  mod.targets.forEach((t) => t.derivations.forEach(visit));
  mod.derivations.forEach(visit);
  return [...seen.values()];
}
