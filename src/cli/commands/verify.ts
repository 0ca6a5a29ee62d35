import { verifyStore } from '../../store/verify.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime verify [--repair] [--store DIR]

Rehashes every valid store path and compares it with the NAR hash recorded when it
was registered. Reports each corrupt or missing path. With --repair, a corrupt path
that a derivation produced is deleted and built (or fetched) again from its .drv;
one that cannot be rebuilt (an added source or file) is named with what to do.

Exit codes: 0 the store is sound (or every problem was repaired); 1 otherwise.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('verify', args, { store: { type: 'string' }, repair: { type: 'boolean' } });
  // --repair rebuilds, so it needs a store it may write; either way a missing one is not "sound".
  const store = openStore(ctx, values.store, { readOnly: 'verify' });
  if (values.repair) store.init();
  const report = await verifyStore(store, {
    repair: Boolean(values.repair),
    cores: defaultCores(),
    onProblem: (p) => ctx.stderr.write(`${p.path}: ${p.problem}${p.repaired ? ' — repaired' : p.hint ? ` — ${p.hint}` : ''}\n`),
  });
  ctx.stderr.write(`checked ${report.checked} paths: ${report.problems.length} problem(s), ${report.problems.filter((p) => p.repaired).length} repaired\n`);
  return report.problems.every((p) => p.repaired) ? 0 : 1;
}

const command: Command = { summary: 'rehash valid paths and report (or repair) corruption', help, run };
export default command;
