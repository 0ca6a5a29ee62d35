import { UsageError } from '../../errors.js';
import type { Derivation } from '../../derivation/api.js';
import { resolveTarget } from '../../derivation/load.js';
import { hashPartOf } from '../../store/paths.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime graph TARGET [options]

Prints the dependency tree of TARGET: each derivation with the first characters of its
hash and whether its outputs are already in the store (✓). A derivation needed twice
is printed once; later mentions end in "(see above)".

Options:
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('graph', args, commonOptions);
  if (positionals.length !== 1) throw new UsageError('slime graph takes exactly one TARGET');
  const store = openStore(ctx, values.store);
  const mod = await openModule(ctx, store, values.file);
  const { name, derivations } = resolveTarget(mod, positionals[0]);
  const lines = [name];
  const seen = new Set<string>();
  derivations.forEach((d, i) => tree(d, '', i === derivations.length - 1, lines, seen, store));
  ctx.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function tree(d: Derivation, prefix: string, last: boolean, lines: string[], seen: Set<string>, store: Store): void {
  const valid = store.allValid(Object.values(d.outputs)) ? ' ✓' : '';
  const again = seen.has(d.drvPath);
  lines.push(`${prefix}${last ? '└─ ' : '├─ '}${d.name} ${hashPartOf(d.drvPath).slice(0, 8)}${valid}${again ? ' (see above)' : ''}`);
  if (again) return;
  seen.add(d.drvPath);
  const childPrefix = prefix + (last ? '   ' : '│  ');
  d.inputDerivations.forEach((c, i) => tree(c, childPrefix, i === d.inputDerivations.length - 1, lines, seen, store));
}

const command: Command = { summary: 'print the dependency tree of a target', help, run };
export default command;
