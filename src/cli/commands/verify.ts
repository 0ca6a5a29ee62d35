import { findProblems } from '../../store/verify.js';
import { acquireLock } from '../../store/lock.js';
import { repairProblems } from '../../scheduler/repair.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';
import { UsageError } from '../../errors.js';
import { plural } from '../../run/format.js';

const help = `Usage: slime verify [options]

Reads back every registration and rehashes every valid store path, comparing it with
the NAR hash recorded when it was registered. Reports each damaged metadata entry and
each corrupt or missing path by name. With --repair (which waits for running builds
and holds off gc): a path that a derivation produced is built (or fetched) again from
its .drv and put in place; anything that cannot be remade from the store alone (a .drv
file, a source, an added file, a path whose .drv is gone) is forgotten and deleted with
the paths that refer to it, and the message says what to run to make it again.

Options:
      --repair          fix what was found (see above)
      --store DIR       the store directory (default: $SLIME_STORE, else store/ in the project)

Exit codes: 0 the store is sound (or every problem was repaired); 1 otherwise.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('verify', args, { store: { type: 'string' }, repair: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`slime verify takes no arguments (got ${positionals.join(' ')}); it checks every valid path of the store`);
  // --repair rebuilds, so it needs a store it may write; either way a missing one is not "sound".
  const store = openStore(ctx, values.store, { readOnly: 'verify' });
  const repair = Boolean(values.repair);
  if (repair) store.init();
  // Repair deletes and replaces paths: as gc, it holds the gc lock exclusively.
  const lock = repair
    ? await acquireLock(store.globalLockFile, { onWait: () => ctx.stderr.write('waiting for running slime processes on this store to finish...\n') })
    : undefined;
  try {
    if (repair) store.db.beginCollection();
    const report = await findProblems(store, (p) => {
      if (!repair) ctx.stderr.write(`${p.path}: ${p.problem}\n`);
    });
    if (repair) {
      await repairProblems(store, report.problems, defaultCores());
      for (const p of report.problems) ctx.stderr.write(`${p.path}: ${p.problem} — ${p.repaired ? 'repaired: ' : 'NOT repaired: '}${p.hint ?? ''}\n`);
    }
    const repaired = report.problems.filter((p) => p.repaired).length;
    ctx.stderr.write(`checked ${plural(report.checked, 'path')}: ${plural(report.problems.length, 'problem')}, ${repaired} repaired\n`);
    if (!repair && report.problems.length > 0) {
      ctx.stderr.write('note: run `slime verify --repair` to fix them: it rebuilds (or fetches again) each corrupt path that a derivation produced\n');
    }
    return report.problems.every((p) => p.repaired) ? 0 : 1;
  } finally {
    if (repair) store.db.endCollection();
    await lock?.release();
  }
}

const command: Command = { summary: 'rehash valid paths and report (or repair) corruption', help, run };
export default command;
