import { UsageError } from '../../errors.js';
import type { Derivation } from '../../derivation/api.js';
import { resolveTarget } from '../../derivation/load.js';
import { hashPartOf } from '../../store/paths.js';
import { planGraph } from '../../scheduler/plan.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';

const help = `Usage: slime graph TARGET [options]

Prints the dependency tree of TARGET: each derivation with the first characters of its
hash and whether its outputs are already in the store (✓). A derivation needed twice
is printed once; later mentions end in "(see above)".

With --json, the graph as data: {"target", "derivations": [{drvPath, name, inputs,
outputs, valid}]} in build order (dependencies first). With --dot, Graphviz input
(\`slime graph T --dot | dot -Tsvg > graph.svg\`): an edge from each derivation to each
input, valid ones grey.

Options:
      --json            print the graph as JSON
      --dot             print the graph in Graphviz's dot language
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('graph', args, { ...commonOptions, json: { type: 'boolean' }, dot: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('slime graph takes exactly one TARGET');
  if (values.json && values.dot) throw new UsageError('slime graph takes --json or --dot, not both');
  const store = openStore(ctx, values.store, { readOnly: true });
  const mod = await openModule(ctx, store, values.file);
  const { name, derivations } = resolveTarget(mod, positionals[0]!);
  if (values.json || values.dot) {
    const nodes = planGraph(derivations).map((n) => ({
      drvPath: n.drvPath,
      name: n.name,
      inputs: n.inputs,
      outputs: n.outputs,
      valid: Object.values(n.outputs).every((p) => store.isValid(p)),
    }));
    ctx.stdout.write(values.json ? `${JSON.stringify({ target: name, derivations: nodes }, null, 2)}\n` : dot(name, nodes));
    return 0;
  }
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

/** Graphviz: one node per derivation (labelled by name), an edge to each input. */
function dot(target: string, nodes: { drvPath: string; name: string; inputs: string[]; valid: boolean }[]): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(target)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const n of nodes) lines.push(`  ${q(n.drvPath)} [label=${q(n.name)}${n.valid ? ', color=gray, fontcolor=gray' : ''}];`);
  for (const n of nodes) for (const i of n.inputs) lines.push(`  ${q(n.drvPath)} -> ${q(i)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

const command: Command = { summary: 'print the dependency tree of a target', help, run };
export default command;
