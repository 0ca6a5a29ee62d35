/**
 * `slime why-depends A B`: the chain of references by which store path A needs B, as
 * `nix why-depends` prints it; each step is a path that refers to the next.
 */
import { UsageError } from '../../errors.js';
import { resolveTarget } from '../../derivation/load.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';
import { looksLikePath, storePathOf } from '../store-arg.js';

const help = `Usage: slime why-depends A B [options]

Prints the shortest chain of references by which A depends on B at run time: A, a
path A refers to, ..., B. A and B are store paths, links to them (./result), or target
or derivation names (their first output). Only valid paths have references; with
--derivation, A and B are compared as .drv files instead (build-time dependencies).

Options:
      --derivation      follow the .drv files' references (what the builds need)
${COMMON_HELP}

Exit codes: 0 A depends on B; 1 it does not; 2 usage error.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('why-depends', args, { ...commonOptions, derivation: { type: 'boolean' } });
  if (positionals.length !== 2) throw new UsageError('slime why-depends takes two paths: A B');
  const store = openStore(ctx, values.store, { readOnly: 'search' });
  const module = async () => openModule(ctx, store, values.file);
  const drv = Boolean(values.derivation);
  const a = await pathOf(store, positionals[0]!, drv, module);
  const b = await pathOf(store, positionals[1]!, drv, module);
  if (!store.isValid(a)) throw new UsageError(`${a} is not valid in the store ${store.dir}; realize it first`);
  const chain = shortestChain(store, a, b);
  if (chain === undefined) {
    ctx.stdout.write(`${a} does not depend on ${b}\n`);
    return 1;
  }
  ctx.stdout.write(chain.map((p, i) => (i === 0 ? p : `${'  '.repeat(i - 1)}└─ ${p}`)).join('\n') + '\n');
  return 0;
}

async function pathOf(store: Store, arg: string, drv: boolean, module: () => ReturnType<typeof openModule>): Promise<string> {
  if (looksLikePath(arg)) {
    const p = storePathOf(store, arg);
    if (p === undefined) throw new UsageError(`${arg} is not a path in (or a link into) the store ${store.dir}`);
    return drv && !p.endsWith('.drv') ? store.queryInfo(p)?.deriver ?? p : p;
  }
  const d = resolveTarget(await module(), arg).derivations[0]!;
  return drv ? d.drvPath : d.out;
}

/** Breadth first over references: the first time B is reached is by a shortest chain. */
function shortestChain(store: Store, from: string, to: string): string[] | undefined {
  const parent = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i]!;
    if (p === to) {
      const chain: string[] = [];
      for (let at: string | null = p; at !== null; at = parent.get(at)!) chain.unshift(at);
      return chain;
    }
    for (const r of store.queryInfo(p)?.references ?? []) {
      if (parent.has(r)) continue;
      parent.set(r, p);
      queue.push(r);
    }
  }
  return undefined;
}

const command: Command = { summary: 'show the chain of references from one store path to another', help, run };
export default command;
