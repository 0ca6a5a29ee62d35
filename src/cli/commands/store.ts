import { SlimeError, UsageError } from '../../errors.js';
import { addFile } from '../../store/add.js';
import { deleteSpecific } from '../../store/gc.js';
import { acquireLock } from '../../store/lock.js';
import { formatBytes, plural } from '../../run/format.js';
import type { PathInfo } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';
import { storePathOf } from '../store-arg.js';

const STORE_OPTION = '      --store DIR       the store directory (default: $SLIME_STORE, else store/ in the project)';

const subcommandHelp = {
  'add-file': `Usage: slime store add-file FILE [--name NAME] [options]

Adds FILE to the store by its SHA-256, as \`nix-store --add-fixed sha256 FILE\`, and
prints the store path. A fixed-output source with the same name and hash is then
already realized (useful where no mirror is reachable).

Options:
      --name NAME       the store name (default: FILE's base name)
${STORE_OPTION}`,
  'path-info': `Usage: slime store path-info PATH [--json] [options]

Prints the registered metadata of a store path: NAR hash and size, references,
deriver, signatures. PATH may be a link to a store path (./result) or a path
inside one.

Options:
      --json            print the metadata as JSON
${STORE_OPTION}`,
  delete: `Usage: slime store delete PATH... [options]

Deletes the given store paths and nothing else, as \`nix-store --delete\`: each must be
dead (no gc root reaches it, and no valid path outside the ones given refers to it),
else nothing is deleted and the error says what keeps it. A PATH may be a link to a
store path or a path inside one. Waits for running \`slime realize\` processes on the
store to finish first.

Options:
${STORE_OPTION}`,
};

const help = `Usage: slime store SUBCOMMAND ARG [options]

Subcommands:
  add-file FILE         add FILE to the store by its SHA-256, as
                        \`nix-store --add-fixed sha256 FILE\`; prints the store path.
                        A fixed-output source with the same name and hash is then
                        already realized (useful where no mirror is reachable).
  path-info PATH        print the registered metadata of a store path: NAR hash and
                        size, references, deriver, signatures. PATH may be a link to
                        a store path (./result) or a path inside one.
  delete PATH...        delete these store paths if nothing keeps them alive, as
                        \`nix-store --delete\`

Options:
      --name NAME       add-file: the store name (default: FILE's base name)
      --json            path-info: print the metadata as JSON
${STORE_OPTION}

\`slime store SUBCOMMAND --help\` describes one subcommand.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('store', args, { store: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const [sub, arg, ...extra] = positionals;
  if (sub === undefined) throw new UsageError('slime store needs a subcommand: add-file, path-info or delete (see `slime store --help`)');
  if (!['add-file', 'path-info', 'delete'].includes(sub)) throw new UsageError(`unknown subcommand "store ${sub}"; use add-file, path-info or delete`);
  if (sub === 'delete') {
    if (!arg) throw new UsageError('slime store delete takes one or more store paths; see `slime store delete --help`');
    return deletePaths(ctx, values.store, [arg, ...extra]);
  }
  if (!arg || extra.length) throw new UsageError(`slime store ${sub} takes one argument; see \`slime store ${sub} --help\``);
  const store = openStore(ctx, values.store);
  if (sub === 'add-file') {
    // Adding a path: hold the gc lock shared, as builds do.
    const lock = await acquireLock(store.globalLockFile, { shared: true });
    try {
      ctx.stdout.write((await addFile(store, arg, values.name)) + '\n');
    } finally {
      await lock.release();
    }
    return 0;
  }
  if (sub === 'path-info') {
    const storePath = storePathOf(store, arg);
    const info = storePath !== undefined ? store.queryInfo(storePath) : undefined;
    if (!info) {
      const why = storePath === undefined ? 'is not (and does not link to) a path in' : 'is not a valid path in';
      ctx.stderr.write(`error: ${arg} ${why} the store ${store.dir}; pass a store path or a link to one such as ./result\n`);
      return 1;
    }
    ctx.stdout.write(values.json ? JSON.stringify(info, null, 2) + '\n' : describeInfo(info));
    return 0;
  }
  throw new UsageError(`unknown subcommand "store ${sub}"; use add-file, path-info or delete`);
}

async function deletePaths(ctx: CliContext, storeOption: string | undefined, args: string[]): Promise<number> {
  const store = openStore(ctx, storeOption);
  const paths = args.map((arg) => {
    const storePath = storePathOf(store, arg);
    if (storePath === undefined) {
      throw new SlimeError(`cannot delete ${arg}: it is not (and does not link to) a path in the store ${store.dir}; pass a store path`);
    }
    return storePath;
  });
  // Deleting is a collection: hold the gc lock exclusively, as `slime gc` does.
  const lock = await acquireLock(store.globalLockFile, {
    onWait: () => ctx.stderr.write('waiting for running slime processes on this store to finish...\n'),
  });
  try {
    const { deleted, bytes } = deleteSpecific(store, paths);
    for (const p of deleted) ctx.stdout.write(`deleted ${p}\n`);
    ctx.stderr.write(`${plural(deleted.length, 'store path')} deleted, ${(bytes / 1048576).toFixed(1)} MiB freed\n`);
    return 0;
  } finally {
    await lock.release();
  }
}

/** `nix path-info -S`-like text: one field a line, sizes in bytes and binary units. */
function describeInfo(info: PathInfo): string {
  const refs = info.references.length === 0 ? ['(none)'] : info.references;
  const lines = [
    info.path,
    `  NAR hash:     ${info.narHash}`,
    `  NAR size:     ${formatBytes(info.narSize)} (${info.narSize} bytes)`,
    `  deriver:      ${info.deriver ?? '(none)'}`,
    ...(info.ca ? [`  content addr: ${info.ca}`] : []),
    `  registered:   ${new Date(info.registrationTime * (info.registrationTime < 1e12 ? 1000 : 1)).toISOString()}`,
    `  references:   ${refs[0]}`,
    ...refs.slice(1).map((r) => `                ${r}`),
    `  signatures:   ${info.signatures.length === 0 ? '(none)' : info.signatures.join(' ')}`,
  ];
  return lines.join('\n') + '\n';
}

const command: Command = { summary: 'add files to the store and inspect its metadata', help, subcommandHelp, run };
export default command;
