/**
 * `slime hash path|file`: hashes as `nix-hash` prints them, for checking and for
 * writing fixed-output hashes into derivations.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { type HashAlgo, type HashStyle, formatHash, hashFile, toHashAlgo } from '../../hash/digest.js';
import { hashNar } from '../../nar/hash.js';
import type { CliContext, Command } from '../command.js';

const help = `Usage: slime hash path [OPTIONS] PATH...
       slime hash file [OPTIONS] FILE...

Print the hash of each PATH or FILE, one per line.

  path   Hash the NAR serialisation of PATH (a file, directory or symlink,
         taken as is, symlinks not followed): the same as
         \`nix-hash --type sha256 --base32 PATH\`. This is the hash a recursive
         fixed-output derivation (outputHashMode = "recursive") declares.
  file   Hash the contents of the regular file FILE: the same as
         \`nix-hash --type sha256 --flat --base32 FILE\` and \`sha256sum\`.
         This is the hash a flat fixed-output derivation declares.

Options:
  --type ALGO   Hash algorithm: sha256 (default), sha512, sha1 or md5.
  --base32      Print in Nix's base32 (the default), as in store paths.
  --base16      Print in hexadecimal.
  --sri         Print as an SRI hash, ALGO-<base64>, e.g. sha256-LCa0a2j/...
  -h, --help    Show this text.

Relative paths are taken from the directory slime runs in (not the project root).

Examples:
  slime hash file ./Python-3.12.3.tar.xz
  slime hash path --sri ./vendor
`;

interface HashOptions {
  algo: HashAlgo;
  style: HashStyle;
  paths: string[];
}

function parseOptions(args: string[]): HashOptions {
  const opts: HashOptions = { algo: 'sha256', style: 'base32', paths: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--type') {
      const value = args[++i];
      if (value === undefined) throw new UsageError('slime hash: --type needs an algorithm: sha256, sha512, sha1 or md5.');
      opts.algo = toHashAlgoOption(value);
    } else if (a.startsWith('--type=')) opts.algo = toHashAlgoOption(a.slice('--type='.length));
    else if (a === '--base16' || a === '--base32' || a === '--sri') opts.style = a.slice(2) as HashStyle;
    else if (a === '--') {
      opts.paths.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`slime hash: unknown option '${a}'; see 'slime hash --help'.`);
    } else opts.paths.push(a);
  }
  return opts;
}

function toHashAlgoOption(value: string): HashAlgo {
  try {
    return toHashAlgo(value);
  } catch {
    throw new UsageError(`slime hash: unknown hash algorithm '${value}'; use sha256, sha512, sha1 or md5.`);
  }
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0 || args.includes('-h') || args.includes('--help')) {
    ctx.stdout.write(help);
    return args.length === 0 ? 2 : 0;
  }
  const [mode, ...rest] = args;
  if (mode !== 'path' && mode !== 'file') {
    throw new UsageError(`slime hash: unknown mode '${mode}'; use 'slime hash path PATH' or 'slime hash file FILE'.`);
  }
  const opts = parseOptions(rest);
  if (opts.paths.length === 0) {
    throw new UsageError(`slime hash ${mode}: say which ${mode === 'path' ? 'path' : 'file'} to hash.`);
  }
  for (const p of opts.paths) {
    const full = resolve(p);
    const digest = mode === 'path' ? await hashNar(full, opts.algo) : await hashFile(full, opts.algo);
    ctx.stdout.write(`${formatHash({ algo: opts.algo, digest }, opts.style)}\n`);
  }
  return 0;
}

const command: Command = {
  summary: 'print the hash of a path (its NAR) or of a file, as nix-hash does',
  help,
  run,
};

export default command;
