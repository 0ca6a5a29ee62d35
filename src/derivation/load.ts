/**
 * Loads a derivation module (the project's `derivations/index.ts`, or `-f FILE`) and
 * resolves what the user asked for: a target name, an exported derivation, or a
 * `.drv` store path already written by an earlier run.
 *
 * A module exports `targets` (an array of `target(...)`) and may export derivations
 * by name. TypeScript modules load through tsx, so users write derivations in the
 * same language as slime without a build step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import { beginEvaluation, type Derivation, type Target } from './api.js';
import { HostToolResolver } from './host-tools.js';
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

export async function loadModule(file: string, storeDir: string, toolCacheFile?: string): Promise<LoadedModule> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) {
    throw new UsageError(`derivation module ${file} does not exist; pass an existing file with -f FILE`);
  }
  const tools = new HostToolResolver(toolCacheFile);
  beginEvaluation(storeDir, tools);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(abs);
  } catch (e) {
    // Syntax errors, throws, and slime's API refusing a declaration: one line with the place.
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

async function importModule(abs: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(abs).href;
  if (/\.(c|m)?ts$/.test(abs)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
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
