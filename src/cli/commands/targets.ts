import fs from 'node:fs';
import { UsageError } from '../../errors.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';
import { describeTargetCheck, targetStates } from '../target-state.js';
import { planGraph } from '../../scheduler/plan.js';

const help = `Usage: slime targets [options]

Lists the targets of the derivation module with their descriptions and state:
realized (every output valid), partly (some), or not yet; and what the latest
\`slime check\` of its derivations found (equal, differing, differing as declared).

Options:
      --json            print the list as JSON
      --names           print only the names, one a line (for shell completion)
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('targets', args, { ...commonOptions, json: { type: 'boolean' }, names: { type: 'boolean' } });
  if (positionals.length > 0) {
    throw new UsageError(`slime targets takes no arguments, not "${positionals.join(' ')}"; \`slime show TARGET\` describes one target`);
  }
  // Listing creates no store; one that does not exist has realized nothing.
  const store = openStore(ctx, values.store, { readOnly: true });
  const mod = await openModule(ctx, store, values.file);
  if (values.names) {
    for (const t of mod.targets) ctx.stdout.write(`${t.name}\n`);
    return 0;
  }
  // Asking a store that is not there would create it (its database): nothing is valid in it.
  const missing = !fs.existsSync(store.dir);
  const states = missing
    ? mod.targets.map((t) => ({ name: t.name, description: t.description, state: 'not yet' as const, valid: 0, total: planGraph(t.derivations).length }))
    : targetStates(mod, store);
  if (missing) ctx.stderr.write(`note: store ${store.dir} does not exist yet, so no target is realized\n`);
  if (values.json) {
    ctx.stdout.write(JSON.stringify(states, null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...states.map((s) => s.name.length), 6);
  const checks = states.map((s) => describeTargetCheck('check' in s ? s.check : undefined));
  const checkWidth = Math.max(...checks.map((c) => c.length));
  states.forEach((s, i) => {
    ctx.stdout.write(`${s.name.padEnd(width)}  ${s.state.padEnd(9)}  ${checks[i].padEnd(checkWidth)}  ${s.description}\n`);
  });
  return 0;
}

const command: Command = { summary: 'list the targets and whether they are realized', help, run };
export default command;
