import fs from 'node:fs';
import path from 'node:path';
import { SlimeError, UsageError } from '../../errors.js';
import { generateKey } from '../../cache/signing.js';
import type { CliContext, Command } from '../command.js';
import { parseCommandArgs } from '../options.js';

const help = `Usage: slime key generate NAME [--dir DIR]

Makes an ed25519 key pair for signing a binary cache, in Nix's form (the same as
\`nix-store --generate-binary-cache-key NAME NAME.sec NAME.pub\`): writes NAME.sec
(the secret key, mode 0600) and NAME.pub (the public key) in DIR (default: the
current directory) and prints the public key. Give NAME.sec to \`slime cache push
--key\` and the public key to whoever substitutes (--trusted-public-keys).
NAME is conventionally the cache's host name and a number: cache.example.org-1.`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('key', args, { dir: { type: 'string' } });
  const [sub, name, ...extra] = positionals;
  if (sub === undefined) throw new UsageError('slime key needs a subcommand: `slime key generate NAME`');
  if (sub !== 'generate') throw new UsageError(`unknown subcommand "key ${sub}"; use \`slime key generate NAME\``);
  if (!name || extra.length) throw new UsageError('slime key generate takes one NAME; see `slime key --help`');
  // NAME goes into the key itself (NAME:base64), so a path there is a mistake, not a place.
  if (name.includes('/')) {
    throw new UsageError(`key name ${JSON.stringify(name)} contains "/": NAME is written into the key (NAME:base64), it is not a file path; give the directory with --dir (slime key generate ${path.basename(name) || 'NAME'} --dir ${path.dirname(name)})`);
  }
  const dir = path.resolve(process.cwd(), values.dir ?? '.');
  const pair = generateKey(name);
  const secretFile = path.join(dir, `${name}.sec`);
  const publicFile = path.join(dir, `${name}.pub`);
  for (const f of [secretFile, publicFile]) {
    if (fs.existsSync(f)) throw new SlimeError(`${f} already exists; remove it or choose another NAME (a key is never overwritten)`);
  }
  try {
    fs.writeFileSync(secretFile, pair.secret, { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(publicFile, pair.public, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    fs.rmSync(secretFile, { force: true });
    throw new SlimeError(`cannot write the key pair in ${dir}: ${(e as Error).message}; choose a writable --dir`);
  }
  ctx.stderr.write(`wrote ${secretFile} (secret, mode 0600) and ${publicFile}\n`);
  ctx.stdout.write(`${pair.public}\n`);
  return 0;
}

const command: Command = { summary: 'make a key pair for signing a binary cache', help, run };
export default command;
