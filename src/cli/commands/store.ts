import { UsageError } from '../../errors.js';
import { addFile } from '../../store/add.js';
import { acquireLock } from '../../store/lock.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime store SUBCOMMAND [--store DIR]

Subcommands:
  add-file FILE [--name NAME]   add FILE to the store by its SHA-256, as
                                \`nix-store --add-fixed sha256 FILE\`; prints the store path.
                                A fixed-output source with the same name and hash is then
                                already realized (useful where no mirror is reachable).
  path-info PATH                print the registered metadata of a store path as JSON
                                (NAR hash and size, references, deriver, signatures)`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('store', args, { store: { type: 'string' }, name: { type: 'string' } });
  const [sub, arg, ...extra] = positionals;
  if (!arg || extra.length) throw new UsageError('slime store takes a subcommand and one argument; see `slime store --help`');
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
    const info = store.queryInfo(arg.replace(/\/+$/, ''));
    if (!info) {
      ctx.stderr.write(`error: ${arg} is not a valid path in the store ${store.dir}\n`);
      return 1;
    }
    ctx.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  throw new UsageError(`unknown subcommand "store ${sub}"; use add-file or path-info`);
}

const command: Command = { summary: 'add files to the store and inspect its metadata', help, run };
export default command;
