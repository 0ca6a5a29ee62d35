import { UsageError } from '../../errors.js';
import { addFile } from '../../store/add.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';
import { storePathOf } from '../store-arg.js';

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
    ctx.stdout.write((await addFile(store, arg, values.name)) + '\n');
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
    ctx.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  throw new UsageError(`unknown subcommand "store ${sub}"; use add-file or path-info`);
}

const command: Command = { summary: 'add files to the store and inspect its metadata', help, run };
export default command;
