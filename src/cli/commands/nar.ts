/**
 * `slime nar dump|restore`: write a path as a NAR, or unpack a NAR, compatibly
 * with `nix-store --dump` and `nix-store --restore`.
 */
import fs from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../../errors.js';
import { narDump } from '../../nar/dump.js';
import { narRestore } from '../../nar/restore.js';
import type { CliContext, Command } from '../command.js';

const help = `Usage: slime nar dump PATH > FILE.nar
       slime nar restore DIR < FILE.nar

Convert between a file tree and a NAR (Nix ARchive), the deterministic
serialisation that Nix hashes and ships between stores.

  dump PATH     Write the NAR of PATH (a file, directory or symlink; symlinks
                are stored, not followed) to standard output, byte for byte
                as \`nix-store --dump PATH\` does. Only regular files,
                directories and symlinks can be archived; a regular file's
                only metadata is whether its owner may execute it.
  restore DIR   Read a NAR from standard input and unpack it at DIR, which
                must not exist yet (its parent must). The NAR is checked
                strictly: a file name that is empty, ".", "..", or contains
                "/" or NUL, directory entries that are unsorted or repeated,
                non-zero padding, unknown tokens, a truncated NAR or bytes
                after its end are refused with an error naming the byte
                offset, and nothing is left at DIR.

Options:
  -h, --help    Show this text.

Relative paths are taken from the directory slime runs in (not the project root).

Examples:
  slime nar dump ./vendor | sha256sum
  slime nar dump ./vendor | ssh host slime nar restore /tmp/vendor
`;

async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0 || args.includes('-h') || args.includes('--help')) {
    ctx.stdout.write(help);
    return args.length === 0 ? 2 : 0;
  }
  const [mode, ...rest] = args;
  if (mode !== 'dump' && mode !== 'restore') {
    throw new UsageError(`slime nar: unknown mode '${mode}'; use 'slime nar dump PATH' or 'slime nar restore DIR'.`);
  }
  const operand = mode === 'dump' ? 'PATH' : 'DIR';
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown !== undefined) throw new UsageError(`slime nar ${mode}: unknown option '${unknown}'; see 'slime nar --help'.`);
  if (rest.length !== 1) {
    throw new UsageError(`slime nar ${mode}: expected exactly one ${operand}, got ${rest.length}; see 'slime nar --help'.`);
  }
  const target = resolve(rest[0]);
  if (mode === 'dump') await pipeline(narDump(target), ctx.stdout, { end: false });
  else await narRestore(ctx.stdin === process.stdin && stdinIsFile() ? fileChunks(0) : ctx.stdin, target);
  return 0;
}

function stdinIsFile(): boolean {
  try {
    return fs.fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/**
 * A NAR redirected from a file (`< FILE.nar`), read in 1 MiB blocks without the thread
 * pool: process.stdin reads a file 64 KiB per round trip, which left the restore idle
 * for half its time. Two blocks take turns: the restore writes what it parses before it
 * asks for more and copies the one thing it keeps (a directory's previous entry name;
 * NarReader's contract), and a new block per read cost the kernel a page fault per
 * 4 KiB of the NAR (some 80,000 for the CPython tree, ~0.1 s of system time).
 */
async function* fileChunks(fd: number): AsyncGenerator<Buffer> {
  const blocks = [Buffer.allocUnsafeSlow(1 << 20), Buffer.allocUnsafeSlow(1 << 20)];
  for (let turn = 0; ; turn ^= 1) {
    const block = blocks[turn]!;
    const n = fs.readSync(fd, block, 0, block.length, null);
    if (n === 0) return;
    yield block.subarray(0, n);
  }
}

const command: Command = {
  summary: 'write a path as a NAR (as nix-store --dump), or restore one strictly',
  help,
  run,
};

export default command;
