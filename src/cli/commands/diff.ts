/**
 * `slime diff A B`: why two derivations differ, the question every "why did this
 * rebuild?" asks. Compares the two .drv files field by field (builder, args, platform,
 * env, sources, inputs) and, where an input of the same name differs, follows it down
 * to the first derivation whose own fields differ.
 */
import fs from 'node:fs';
import { SlimeError, UsageError } from '../../errors.js';
import { parseDrv, type DrvData } from '../../derivation/aterm.js';
import { resolveTarget } from '../../derivation/load.js';
import { storePathName } from '../../store/paths.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { COMMON_HELP, commonOptions, openModule, openStore, parseCommandArgs } from '../options.js';
import { looksLikePath, storePathOf } from '../store-arg.js';

const help = `Usage: slime diff A B [options]

Says why two derivations differ: their builder, args, platform, environment, sources
and inputs, field by field, then the first input of the same name that differs, followed
down to the derivation where the difference starts. A and B are .drv paths, output paths
or links to them (./result), target names or derivation names.

Options:
${COMMON_HELP}

Exit codes: 0 the derivations are the same; 1 they differ; 2 usage error.`;

/** Outputs and the env entries naming them differ whenever anything else does: not news. */
const DERIVED_ENV = new Set(['out']);

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('diff', args, commonOptions);
  if (positionals.length !== 2) throw new UsageError('slime diff takes two derivations: A B');
  const store = openStore(ctx, values.store, { readOnly: 'compare' });
  const module = async () => openModule(ctx, store, values.file);
  const [a, b] = [await drvPathOf(store, positionals[0]!, module), await drvPathOf(store, positionals[1]!, module)];
  if (a === b) {
    ctx.stdout.write(`${a}\nthe same derivation\n`);
    return 0;
  }
  const lines: string[] = [];
  diffDrvs(a, b, 0, lines, new Set());
  ctx.stdout.write(lines.join('\n') + '\n');
  return 1;
}

async function drvPathOf(store: Store, arg: string, module: () => ReturnType<typeof openModule>): Promise<string> {
  if (looksLikePath(arg)) {
    const p = storePathOf(store, arg);
    if (p === undefined) throw new UsageError(`${arg} is not a path in (or a link into) the store ${store.dir}`);
    if (p.endsWith('.drv')) return p;
    const deriver = store.queryInfo(p)?.deriver;
    if (deriver === undefined) throw new SlimeError(`${p} has no known deriver in the store ${store.dir}; pass its .drv path`);
    return deriver;
  }
  const { derivations } = resolveTarget(await module(), arg);
  if (derivations.length !== 1) throw new UsageError(`target ${arg} has ${derivations.length} derivations; name one of them (\`slime graph ${arg}\`)`);
  return derivations[0]!.drvPath;
}

function read(drvPath: string): DrvData {
  try {
    return parseDrv(fs.readFileSync(drvPath, 'utf8'));
  } catch (e) {
    throw new SlimeError(`cannot read ${drvPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); realize its target once so its .drv is in the store`);
  }
}

const nameOf = (drvPath: string) => storePathName(drvPath).replace(/\.drv$/, '');
const show = (v: string) => (v.length > 120 ? `${JSON.stringify(v.slice(0, 120))}…` : JSON.stringify(v));

function diffDrvs(a: string, b: string, depth: number, lines: string[], seen: Set<string>): void {
  const pad = '  '.repeat(depth);
  const x = read(a);
  const y = read(b);
  lines.push(`${pad}${nameOf(a)}: ${a}`, `${pad}${' '.repeat(nameOf(a).length)}  ${b}`);
  const own: string[] = [];
  if (x.builder !== y.builder) own.push(`builder: ${show(x.builder)} -> ${show(y.builder)}`);
  if (x.platform !== y.platform) own.push(`platform: ${show(x.platform)} -> ${show(y.platform)}`);
  if (JSON.stringify(x.args) !== JSON.stringify(y.args)) own.push(`args: ${show(JSON.stringify(x.args))} -> ${show(JSON.stringify(y.args))}`);
  const outputPaths = new Set([...Object.values(x.outputs), ...Object.values(y.outputs)].map((o) => o.path));
  for (const key of [...new Set([...Object.keys(x.env), ...Object.keys(y.env)])].sort()) {
    const [u, v] = [x.env[key], y.env[key]];
    if (u === v || DERIVED_ENV.has(key) || (u !== undefined && v !== undefined && outputPaths.has(u) && outputPaths.has(v))) continue;
    own.push(u === undefined ? `env.${key}: added ${show(v!)}` : v === undefined ? `env.${key}: removed (was ${show(u)})` : `env.${key}: ${show(u)} -> ${show(v)}`);
  }
  const srcA = new Set(x.inputSrcs);
  const srcB = new Set(y.inputSrcs);
  for (const s of x.inputSrcs) if (!srcB.has(s)) own.push(`source only in the first: ${s}`);
  for (const s of y.inputSrcs) if (!srcA.has(s)) own.push(`source only in the second: ${s}`);
  // Inputs matched by name: a different .drv of the same name is where to look next.
  const byName = (d: DrvData) => new Map(Object.keys(d.inputDrvs).map((p) => [nameOf(p), p]));
  const [ia, ib] = [byName(x), byName(y)];
  const changed: [string, string][] = [];
  for (const [name, p] of ia) {
    const q = ib.get(name);
    if (q === undefined) own.push(`input only in the first: ${p}`);
    else if (q !== p) changed.push([p, q]);
  }
  for (const [name, q] of ib) if (!ia.has(name)) own.push(`input only in the second: ${q}`);
  for (const line of own) lines.push(`${pad}  ${line}`);
  if (own.length === 0 && changed.length === 0) lines.push(`${pad}  (only the outputs differ)`);
  for (const [p, q] of changed) {
    lines.push(`${pad}  input ${nameOf(p)} differs:`);
    const key = `${p} ${q}`;
    if (seen.has(key)) {
      lines.push(`${pad}    (see above)`);
      continue;
    }
    seen.add(key);
    diffDrvs(p, q, depth + 2, lines, seen);
  }
}

const command: Command = { summary: 'say why two derivations differ, down to the first differing input', help, run };
export default command;
