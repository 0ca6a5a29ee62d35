import fs from 'node:fs';
import { UsageError } from '../../errors.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';
import { targetStates } from '../target-state.js';

const help = `Usage: slime targets [options]

Lists the targets of the derivation module with their descriptions and state:
realized (every output valid), partly (some), or not yet.

Options:
      --json           print the list as JSON
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('targets', args, { ...commonOptions, json: { type: 'boolean' } });
  if (positionals.length > 0) {
    throw new UsageError(`slime targets takes no arguments, not "${positionals.join(' ')}"; \`slime show TARGET\` describes one target`);
  }
  // Listing creates no store; one that does not exist has realized nothing.
  const store = openStore(ctx, values.store, { readOnly: true });
  const mod = await openModule(ctx, store, values.file);
  const states = targetStates(mod, store);
  if (!fs.existsSync(store.dir)) ctx.stderr.write(`note: store ${store.dir} does not exist yet, so no target is realized\n`);
  if (values.json) {
    ctx.stdout.write(JSON.stringify(states, null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...states.map((s) => s.name.length), 6);
  for (const s of states) {
    ctx.stdout.write(`${s.name.padEnd(width)}  ${s.state.padEnd(9)}  ${s.description}\n`);
  }
  return 0;
}

const command: Command = { summary: 'list the targets and whether they are realized', help, run };
export default command;
