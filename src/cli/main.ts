#!/usr/bin/env node
/**
 * `slime CMD ...`: dispatches to one module per command, loaded only when it runs, so
 * that a no-op `slime realize` never loads the TUI, the fetcher or the cache client.
 */
import path from 'node:path';
import fs from 'node:fs';
import { ExitCode, SlimeError } from '../errors.js';
import type { CliContext, Command } from './command.js';

const commands: Record<string, () => Promise<{ default: Command }>> = {
  realize: () => import('./commands/realize.js'),
  show: () => import('./commands/show.js'),
  graph: () => import('./commands/graph.js'),
  targets: () => import('./commands/targets.js'),
  log: () => import('./commands/log.js'),
  gc: () => import('./commands/gc.js'),
  verify: () => import('./commands/verify.js'),
  store: () => import('./commands/store.js'),
  nar: () => import('./commands/nar.js'),
  hash: () => import('./commands/hash.js'),
  bench: () => import('./commands/bench.js'),
  tui: () => import('./commands/tui.js'),
  run: () => import('./commands/run.js'),
};

const EXIT_CODES = `Exit codes:
  0    success
  1    an error (the message says what and what to do)
  2    usage error: unknown command, option or target
  100  a build failed
  101  a build timed out
  102  a fixed-output hash did not match
  104  a rebuild was not deterministic
  130  interrupted (Ctrl-C)`;

/** The project root: the nearest directory above cwd with a `derivations/` folder, else cwd. */
export function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'derivations'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

async function usage(ctx: CliContext): Promise<string> {
  const lines = await Promise.all(
    Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(9)} ${(await load()).default.summary}`),
  );
  return `slime — declarative, content-addressed builds (Nix-compatible derivations and store paths)

Usage: slime COMMAND [ARGS...]     (slime COMMAND --help for details)

Commands:
${lines.join('\n')}

Common options:
  --store DIR      the store directory (default: SLIME_STORE, else ${path.join(ctx.cwd, 'store')})
  -f, --file FILE  a derivation module instead of derivations/index.ts

${EXIT_CODES}
`;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(await usage(ctx));
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version') {
    ctx.stdout.write('slime 0.1.0\n');
    return ExitCode.ok;
  }
  const load = commands[name];
  if (!load) {
    ctx.stderr.write(`error: unknown command "${name}"; run \`slime --help\` for the list of commands\n`);
    return ExitCode.usage;
  }
  const command = (await load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(command.help.endsWith('\n') ? command.help : command.help + '\n');
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    if (e instanceof SlimeError) {
      ctx.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    ctx.stderr.write(`error: internal error in slime ${name}: ${(e as Error).stack ?? e}\n`);
    return ExitCode.failure;
  }
}

const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  process.umask(0o022);
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: findProjectRoot(process.cwd()),
    env: process.env,
  };
  main(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = ExitCode.failure;
    },
  );
}
