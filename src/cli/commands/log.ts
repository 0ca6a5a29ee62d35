import fs from 'node:fs';
import readline from 'node:readline';
import { SlimeError, UsageError } from '../../errors.js';
import { allDerivations } from '../../derivation/load.js';
import { looksLikePath, storePathOf } from '../store-arg.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs, positiveInt } from '../options.js';

const help = `Usage: slime log DRV [options]

Prints the build log of a derivation, kept after its build (also after a failure).
DRV is a .drv store path, a derivation name, an output path, or a link to a store
path (./result).

Options:
  -n, --tail N          print only the last N lines
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('log', args, { ...commonOptions, tail: { type: 'string', short: 'n' } });
  const tail = values.tail === undefined ? undefined : positiveInt('--tail', values.tail, 1);
  if (positionals.length !== 1) throw new UsageError('slime log takes exactly one DRV');
  // Reading a log creates no store: a store that is not there has none to print.
  const store = openStore(ctx, values.store, { readOnly: 'print' });
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
  if (tail !== undefined) {
    for (const line of await lastLinesOf(file, tail)) ctx.stdout.write(`${line}\n`);
    return 0;
  }
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file).on('error', reject).on('end', resolve).pipe(ctx.stdout, { end: false });
  });
  return 0;
}

/** The last `n` lines of a file, read as a stream: a log can be far larger than memory should hold. */
async function lastLinesOf(file: string, n: number): Promise<string[]> {
  // A ring of the last n lines: constant work per line however long the log.
  const ring: string[] = new Array(n);
  let count = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) ring[count++ % n] = line;
  const start = Math.max(0, count - n);
  return Array.from({ length: count - start }, (_, i) => ring[(start + i) % n]!);
}

const command: Command = { summary: 'print the build log of a derivation', help, run };
export default command;
