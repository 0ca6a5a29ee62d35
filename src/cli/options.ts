/**
 * Options shared by the commands that read a derivation module and a store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { defaultModule, loadModule, type LoadedModule } from '../derivation/load.js';
import { Store, storeDirFrom } from '../store/store.js';
import type { CliContext } from './command.js';
import { checkStoreDir, missingStoreError } from './store-dir.js';
import { didYouMean } from '../suggest.js';

export const commonOptions = {
  store: { type: 'string' },
  file: { type: 'string', short: 'f' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `      --store DIR       the store directory (default: $SLIME_STORE, else store/ in the project)
  -f, --file FILE       load derivations from FILE instead of derivations/index.ts
      --debug           print stack traces with errors (or SLIME_DEBUG=1)`;

/** node:util's parseArgs, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // Node says `Unknown option '--x'. To specify a positional ...`: lower case like every other error.
    const said = (e as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\.$/, '');
    const unknown = /^Unknown option '(--?[^']+)'/.exec(said);
    const known = Object.entries(options).flatMap(([long, o]) => [`--${long}`, ...(o.short !== undefined ? [`-${o.short}`] : [])]);
    const hint = unknown !== null && unknown[1]!.startsWith('--') ? didYouMean(unknown[1]!, known) : '';
    throw new UsageError(`${said.charAt(0).toLowerCase()}${said.slice(1)}${hint}; see \`slime ${command} --help\``);
  }
}

function storeDirOf(ctx: CliContext, storeOption: string | undefined): string {
  // An empty --store would resolve to the current directory, which would then be made a store.
  if (storeOption === '') throw new UsageError('--store is empty; pass the store directory (it is created if it does not exist)');
  return storeDirFrom(storeOption, ctx.env, ctx.cwd);
}

/**
 * The store a command works on. A command that writes creates it if it is missing;
 * a read-only one (`readOnly: 'verify'`, the verb for the error) refuses a store that
 * does not exist, and with `readOnly: true` gets it as it is without creating anything.
 */
export function openStore(ctx: CliContext, storeOption: string | undefined, opts: { readOnly?: string | true } = {}): Store {
  const store = new Store(storeDirOf(ctx, storeOption));
  const state = checkStoreDir(store.dir, { create: opts.readOnly === undefined });
  if (state === 'missing') {
    if (typeof opts.readOnly === 'string') throw missingStoreError(store.dir, opts.readOnly);
    return store;
  }
  if (opts.readOnly === undefined) store.init();
  if (fs.existsSync(`${store.stateDir}/db`)) {
    // An older slime's JSON metadata: imported now, and what could not be read said by name.
    store.db.gcState();
    for (const p of store.migrationProblems) ctx.stderr.write(`warning: store metadata not imported: ${p}\n`);
  }
  return store;
}

/**
 * For a command that writes to the store: the store `openStore` gives, but one that
 * does not exist yet is made only once `prepare` (loading the module, resolving what was
 * asked for) has succeeded, so that a mistyped target or a missing module leaves no
 * new, empty store behind; `prepare` then runs once more against the new store. An
 * existing store is opened first, as before.
 */
export async function openStoreAfter<T>(ctx: CliContext, storeOption: string | undefined, prepare: (store: Store) => Promise<T>): Promise<{ store: Store; prepared: T }> {
  if (checkStoreDir(storeDirOf(ctx, storeOption), { create: false }) === 'exists') {
    const store = openStore(ctx, storeOption);
    return { store, prepared: await prepare(store) };
  }
  await prepare(openStore(ctx, storeOption, { readOnly: true }));
  const store = openStore(ctx, storeOption);
  // Prepared again now that the store exists, so that its evaluation cache holds the plan
  // (copied from the user's, or evaluated afresh), as for a store that existed before.
  return { store, prepared: await prepare(store) };
}

export async function openModule(ctx: CliContext, store: Store, fileOption: string | undefined): Promise<LoadedModule> {
  // A store that is not there gets no tool cache and no evaluation cache: reading a module creates no store.
  const exists = fs.existsSync(store.stateDir);
  if (fileOption === undefined && !fs.existsSync(defaultModule(ctx.cwd))) {
    // Like nix-build's ./default.nix, the module is found in the current directory: name that, not just the path.
    throw new UsageError(
      `no derivation module here: slime reads derivations/index.ts in the current directory (${ctx.cwd}), and there is none; ` +
        'run slime from the project directory (where the README is), or pass the module with -f FILE',
    );
  }
  return loadModule(fileOption ?? defaultModule(ctx.cwd), store.dir, exists ? store.toolCacheFile : undefined, exists ? path.join(store.stateDir, 'eval-cache') : undefined);
}

export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of at least 1, not "${value}"`);
  return n;
}
