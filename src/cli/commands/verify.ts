import { verifyStore } from '../../store/verify.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';
import { plural } from '../../run/format.js';

const help = `Usage: slime verify [options]

Rehashes every valid store path and compares it with the NAR hash recorded when it
was registered. Reports each corrupt or missing path. With --repair, a corrupt path
that a derivation produced is deleted and built (or fetched) again from its .drv;
one that cannot be rebuilt (an added source or file) is named with what to do.

Options:
      --repair          rebuild (or fetch again) what is corrupt or missing
      --store DIR       the store directory (default: $SLIME_STORE, else store/ in the project)

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
  const repaired = report.problems.filter((p) => p.repaired).length;
  ctx.stderr.write(`checked ${plural(report.checked, 'path')}: ${plural(report.problems.length, 'problem')}, ${repaired} repaired\n`);
  if (!values.repair && report.problems.length > 0) {
    ctx.stderr.write('note: `slime verify --repair` rebuilds (or fetches again) each corrupt path that a derivation produced\n');
  }
  return report.problems.every((p) => p.repaired) ? 0 : 1;
}

const command: Command = { summary: 'rehash valid paths and report (or repair) corruption', help, run };
export default command;
