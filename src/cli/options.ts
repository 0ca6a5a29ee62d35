/**
 * Options shared by the commands that read a derivation module and a store.
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { defaultModule, loadModule, type LoadedModule } from '../derivation/load.js';
import { Store, storeDirFrom } from '../store/store.js';
import type { CliContext } from './command.js';

export const commonOptions = {
  store: { type: 'string' },
  file: { type: 'string', short: 'f' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `  --store DIR        the store directory (default: $SLIME_STORE, else store/ in the project)
  -f, --file FILE    load derivations from FILE instead of derivations/index.ts`;

/** node:util's parseArgs, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}; see \`slime ${command} --help\``);
  }
}

export function openStore(ctx: CliContext, storeOption: string | undefined): Store {
  const store = new Store(storeDirFrom(storeOption, ctx.env, ctx.cwd));
  store.init();
  if (store.stateDir && fs.existsSync(`${store.stateDir}/db`)) {
    // An older slime's JSON metadata: imported now, and what could not be read said by name.
    store.db.gcState();
    for (const p of store.migrationProblems) ctx.stderr.write(`warning: store metadata not imported: ${p}\n`);
  }
  return store;
}

export async function openModule(ctx: CliContext, store: Store, fileOption: string | undefined): Promise<LoadedModule> {
  return loadModule(fileOption ?? defaultModule(ctx.cwd), store.dir, store.toolCacheFile);
}

export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of at least 1, not "${value}"`);
  return n;
}
