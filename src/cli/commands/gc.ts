import { collectGarbage } from '../../store/gc.js';
import { acquireLock } from '../../store/lock.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';
import { UsageError } from '../../errors.js';
import { plural } from '../../run/format.js';

const help = `Usage: slime gc [--dry-run] [--max-freed SIZE] [--store DIR]

Deletes every store path that no gc root reaches. Roots are the ./result links that
\`slime realize\` made (while they exist and point into the store) and every symlink
under <store>/.roots/; a root keeps its whole closure (the paths it references,
recursively). Paths that were never registered (an interrupted build) are deleted too.
Waits for running \`slime realize\` processes on the store to finish first.

Options:
      --dry-run         list what would be deleted, delete nothing
      --max-freed SIZE  stop once at least SIZE bytes are freed (suffix K, M, G or T:
                        powers of 1024); a path goes only after every dead path that
                        refers to it, interrupted builds first, then the oldest
      --store DIR       the store directory (default: $SLIME_STORE, else store/ in the project)`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('gc', args, { store: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'max-freed': { type: 'string' } });
  const maxFreed = values['max-freed'] === undefined ? undefined : byteSize('--max-freed', values['max-freed']);
  // Not ignored: `slime gc PATH` collecting everything but what roots reach is not what it asks for.
  if (positionals.length > 0) {
    throw new UsageError(`slime gc takes no arguments (got ${positionals.join(' ')}); it deletes every path no root reaches. To delete particular paths, use \`slime store delete PATH...\``);
  }
  const store = openStore(ctx, values.store, { readOnly: 'collect' });
  store.init();
  const lock = await acquireLock(store.globalLockFile, {
    onWait: () => ctx.stderr.write('waiting for running slime processes on this store to finish...\n'),
  });
  try {
    const result = await collectGarbage(store, { dryRun: Boolean(values['dry-run']), maxFreed });
    for (const p of result.deleted) ctx.stdout.write(`${values['dry-run'] ? 'would delete' : 'deleted'} ${p}\n`);
    const mib = (result.bytes / 1048576).toFixed(1);
    const dry = Boolean(values['dry-run']);
    const deleted = `${plural(result.deleted.length, 'store path')} ${dry ? 'would be deleted' : 'deleted'}, ${mib} MiB ${dry ? 'would be ' : ''}freed`;
    ctx.stderr.write(`${deleted}; ${plural(result.live, 'path')} kept alive by ${plural(result.roots, 'root')}\n`);
    return 0;
  } finally {
    await lock.release();
  }
}

/** A size as Nix's --max-freed takes it: bytes, or a number with K, M, G or T (powers of 1024). */
function byteSize(option: string, text: string): number {
  const m = /^(\d+)([KMGT]?)$/.exec(text);
  if (!m) throw new UsageError(`${option} must be a number of bytes, optionally with K, M, G or T (e.g. 10G), not "${text}"`);
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] || ' ');
}

const command: Command = { summary: 'delete store paths that no root reaches', help, run };
export default command;
