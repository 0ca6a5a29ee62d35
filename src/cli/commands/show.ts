import fs from 'node:fs';
import path from 'node:path';
import { SlimeError, UsageError } from '../../errors.js';
import { parseDrv } from '../../derivation/aterm.js';
import { drvText } from '../../derivation/api.js';
import { resolveTarget } from '../../derivation/load.js';
import { hashPartOf } from '../../store/paths.js';
import type { CliContext, Command } from '../command.js';
import { looksLikePath, storePathOf } from '../store-arg.js';
import { COMMON_HELP, commonOptions, openModule, openStoreAfter, parseCommandArgs } from '../options.js';

const help = `Usage: slime show TARGET|DRV|OUTPUT [--drv] [options]

Prints each derivation of TARGET: its .drv path, hash, output paths, and the
derivation itself as JSON (Nix's \`nix show-derivation\` shape), or with --drv the
exact ATerm text of its .drv file. An output path (or a link to one, ./result) shows
the derivation that built it.

Options:
      --drv            print the ATerm .drv text instead of JSON
${COMMON_HELP}`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('show', args, { ...commonOptions, drv: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('slime show takes exactly one TARGET, .drv path or output path');
  let asDrv = path.resolve(positionals[0]);
  const { store, prepared: derivations } = await openStoreAfter(ctx, values.store, async (s) => {
    // An output path (or ./result) shows the derivation that built it, as nix show-derivation does.
    const storePath = looksLikePath(positionals[0]) ? storePathOf(s, positionals[0]) : undefined;
    if (storePath !== undefined && !storePath.endsWith('.drv')) {
      const deriver = s.isValid(storePath) ? s.queryInfo(storePath)?.deriver : undefined;
      if (deriver === undefined || !s.isValid(deriver)) {
        throw new SlimeError(`${storePath} has no derivation in the store ${s.dir} (it is not valid, was added as a file, or its .drv was collected); show its target instead`);
      }
      asDrv = deriver;
    }
    if (asDrv.endsWith('.drv') && s.isValid(asDrv)) return undefined;
    if (asDrv.endsWith('.drv') && path.dirname(asDrv) === s.dir) {
      throw new SlimeError(
        `${asDrv} is not a valid derivation in the store ${s.dir}; \`slime realize\` or \`slime show TARGET\` writes it, and \`slime verify --repair\` clears a broken one`,
      );
    }
    return resolveTarget(await openModule(ctx, s, values.file), positionals[0]).derivations;
  });
  if (derivations === undefined) return showStoredDrv(asDrv, Boolean(values.drv), ctx);
  if (values.drv) {
    for (const d of derivations) ctx.stdout.write(drvText(d) + '\n');
    return 0;
  }
  const shown = derivations.map((d) => ({
    name: d.name,
    drvPath: d.drvPath,
    hash: hashPartOf(d.drvPath),
    outputs: d.outputs,
    valid: Object.fromEntries(Object.entries(d.outputs).map(([k, p]) => [k, store.isValid(p)])),
    derivation: d.drv,
  }));
  ctx.stdout.write(JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2) + '\n');
  return 0;
}

/** A `.drv` already in the store needs no derivation module: the file says everything. */
function showStoredDrv(drvPath: string, aterm: boolean, ctx: CliContext): number {
  let text: string;
  try {
    text = fs.readFileSync(drvPath, 'utf8');
  } catch (e) {
    throw new SlimeError(`cannot read ${drvPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; the store lost it: run \`slime verify --repair\`, then \`slime realize\` for its target`);
  }
  if (aterm) {
    ctx.stdout.write(text + '\n');
    return 0;
  }
  const drv = parseDrv(text);
  const outputs = Object.fromEntries(Object.entries(drv.outputs).map(([k, v]) => [k, v.path]));
  ctx.stdout.write(JSON.stringify({ name: drv.env.name, drvPath, hash: hashPartOf(drvPath), outputs, derivation: drv }, null, 2) + '\n');
  return 0;
}

const command: Command = { summary: "print a derivation, its hash and output paths", help, run };
export default command;
