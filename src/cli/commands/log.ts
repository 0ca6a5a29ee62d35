import fs from 'node:fs';
import { SlimeError, UsageError } from '../../errors.js';
import { allDerivations } from '../../derivation/load.js';
import { looksLikePath, storePathOf } from '../store-arg.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime log DRV [options]

Prints the build log of a derivation, kept after its build (also after a failure).
DRV is a .drv store path, a derivation name, or an output path.

Options:
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('log', args, commonOptions);
  if (positionals.length !== 1) throw new UsageError('slime log takes exactly one DRV');
  const store = openStore(ctx, values.store);
  const wanted = positionals[0]!;
  // A .drv, an output path, or a link to either (./result).
  const storePath = looksLikePath(wanted) ? storePathOf(store, wanted) : undefined;
  let drvPath = storePath?.endsWith('.drv') ? storePath : storePath !== undefined ? store.queryInfo(storePath)?.deriver : undefined;
  if (!drvPath) {
    const mod = await openModule(ctx, store, values.file);
    drvPath = allDerivations(mod).find((d) => d.name === wanted || (storePath !== undefined && Object.values(d.outputs).includes(storePath)))?.drvPath;
  }
  if (!drvPath) throw new UsageError(`no derivation named "${wanted}"; give a .drv path, a derivation name or an output path`);
  const file = store.logFile(drvPath);
  if (!fs.existsSync(file)) {
    throw new SlimeError(`no build log for ${drvPath}: it was never built in this store (it may have been fetched or substituted)`);
  }
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file).on('error', reject).on('end', resolve).pipe(ctx.stdout, { end: false });
  });
  return 0;
}

const command: Command = { summary: 'print the build log of a derivation', help, run };
export default command;
