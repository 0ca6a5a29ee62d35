import { findProblems } from '../../store/verify.js';
import { acquireLock } from '../../store/lock.js';
import { repairProblems } from '../../scheduler/repair.js';
import { defaultCores } from '../../builder/realize-derivation.js';
import type { CliContext, Command } from '../command.js';
import { openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime verify [--repair] [--store DIR]

Reads back every registration and rehashes every valid store path, comparing it with
the NAR hash recorded when it was registered. Reports each damaged metadata entry and
each corrupt or missing path by name. With --repair (which waits for running builds
and holds off gc): a path that a derivation produced is built (or fetched) again from
its .drv and put in place; anything that cannot be remade from the store alone (a .drv
file, a source, an added file, a path whose .drv is gone) is forgotten and deleted with
the paths that refer to it, and the message says what to run to make it again.

Options:
      --repair         fix what was found (see above)
      --store DIR      the store directory

Exit codes: 0 the store is sound (or every problem was repaired); 1 otherwise.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('verify', args, { store: { type: 'string' }, repair: { type: 'boolean' } });
  const store = openStore(ctx, values.store);
  const repair = Boolean(values.repair);
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
    const advice = !repair && report.problems.length ? '; run `slime verify --repair` to fix them' : '';
    ctx.stderr.write(`checked ${report.checked} paths: ${report.problems.length} problem(s), ${repaired} repaired${advice}\n`);
    return report.problems.every((p) => p.repaired) ? 0 : 1;
  } finally {
    if (repair) store.db.endCollection();
    await lock?.release();
  }
}

const command: Command = { summary: 'rehash valid paths and report (or repair) corruption', help, run };
export default command;
