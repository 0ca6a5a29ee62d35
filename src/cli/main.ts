#!/usr/bin/env node
/**
 * `slime CMD ...`: dispatches to one module per command, loaded only when it runs, so
 * that a no-op `slime realize` never loads the TUI, the fetcher or the cache client.
 */
import path from 'node:path';
import fs from 'node:fs';
import { ExitCode, SlimeError } from '../errors.js';
import type { CliContext, Command } from './command.js';
import { didYouMean } from '../suggest.js';
import { layoutHelp } from './help-layout.js';

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
  cache: () => import('./commands/cache.js'),
  key: () => import('./commands/key.js'),
  check: () => import('./commands/check.js'),
  'why-depends': () => import('./commands/why-depends.js'),
  diff: () => import('./commands/diff.js'),
  completion: () => import('./commands/completion.js'),
  run: () => import('./commands/run.js'),
};

/** Other spellings users bring along (Nix's `realise`). */
const aliases: Record<string, string> = { realise: 'realize' };
/**
 * The commands' one-line summaries, so that `slime --help` loads no command module
 * (each pulls in part of the engine). A command missing here is loaded for its
 * summary; test/cli-help.test.ts checks that these equal the modules' own.
 */
export const SUMMARIES: Record<string, string> = {
  realize: 'build targets and link their outputs as ./result',
  show: 'print a derivation, its hash and output paths',
  graph: 'print the dependency tree of a target',
  targets: 'list the targets and whether they are realized',
  log: 'print the build log of a derivation',
  gc: 'delete store paths that no root reaches',
  verify: 'rehash valid paths and report (or repair) corruption',
  store: 'add files to the store and inspect its metadata',
  nar: 'write a path as a NAR (as nix-store --dump), or restore one strictly',
  hash: 'print the hash of a path (its NAR) or of a file, as nix-hash does',
  bench: 'time the isolate against python3.11 (impure; results kept with a timestamp)',
  tui: 'interactive: pick a target, realize it, read logs, results and benchmarks',
  'why-depends': 'show the chain of references from one store path to another',
  diff: 'say why two derivations differ, down to the first differing input',
  completion: 'print a shell completion script (bash, zsh, fish)',
  cache: 'push to, serve, inspect and verify binary caches (Nix format)',
  key: 'make a key pair for signing a binary cache',
  check: 'rebuild and compare: is every output reproducible?',
  run: 'run a Python script on the tier the router picks (Full or Light)',
};

export const commandNames = (): string[] => Object.keys(commands);

export async function loadCommand(name: string): Promise<Command | undefined> {
  return (await commands[name]?.())?.default;
}

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
    Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(12)} ${SUMMARIES[name] ?? (await load()).default.summary}`),
  );
  return `slime — declarative, content-addressed builds (Nix-compatible derivations and store paths)

Usage: slime COMMAND [ARGS...]     (slime COMMAND --help for details)

Commands:
${lines.join('\n')}

Common options:
  --store DIR        the store directory (default: $SLIME_STORE, else ${path.join(ctx.cwd, 'store')})
  -f, --file FILE    load derivations from FILE instead of derivations/index.ts
  --debug            print stack traces with errors (or SLIME_DEBUG=1)

${EXIT_CODES}
`;
}

/** Every command name and alias, for completion. */
export function commandAndAliasNames(): string[] {
  return [...Object.keys(commands), ...Object.keys(aliases)].sort();
}

/** The options a command's help lists (`--store`, `-f`, ...), for completion. */
export async function optionsOf(name: string): Promise<string[]> {
  const load = commands[aliases[name] ?? name];
  if (load === undefined) return [];
  const help = (await load()).default.help;
  // Only the Options block: the prose mentions other programs' flags (nix-store --dump).
  const block = help.slice(help.indexOf('Options:')).split(/\n\s*\n/)[0]!;
  const found = help.includes('Options:') ? (block.match(/^\s*(?:-[a-zA-Z], )?--?[a-zA-Z][\w-]*/gm) ?? []).flatMap((l) => l.trim().split(', ')) : [];
  return [...new Set(found.filter((o) => /^(-[a-zA-Z]|--[a-z][\w-]+)$/.test(o)))].sort();
}

/** `--debug` anywhere on the line, or SLIME_DEBUG=1: stack traces with errors. */
function debugWanted(argv: string[], env: NodeJS.ProcessEnv): { debug: boolean; argv: string[] } {
  const debug = argv.includes('--debug') || (env.SLIME_DEBUG !== undefined && env.SLIME_DEBUG !== '' && env.SLIME_DEBUG !== '0');
  return { debug, argv: argv.filter((a) => a !== '--debug') };
}

/** `--log-format json` (or `=json`): every line on stderr must then be a JSON event, errors too. */
function jsonLog(args: string[]): boolean {
  return args.includes('--log-format=json') || args.some((a, i) => a === '--log-format' && args[i + 1] === 'json');
}

/** Says an error the way the run's log speaks: a plain `error:` line, or a JSON event. */
function reportError(ctx: CliContext, json: boolean, message: string, exitCode: number, stack?: string): void {
  if (json) {
    ctx.stderr.write(`${JSON.stringify({ type: 'message', time: Date.now(), level: 'error', message, exitCode, ...(stack !== undefined ? { stack } : {}) })}\n`);
  } else {
    ctx.stderr.write(`error: ${message}\n${stack !== undefined ? `${stack}\n` : ''}`);
  }
}

export async function main(argvIn: string[], ctx: CliContext): Promise<number> {
  const { debug, argv } = debugWanted(argvIn, ctx.env);
  const [given, ...rest] = argv;
  const name = given !== undefined ? aliases[given] ?? given : given;
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
    const hint = didYouMean(name, Object.keys(commands));
    ctx.stderr.write(`error: unknown command "${name}"${hint}; run \`slime --help\` for the list of commands\n`);
    return ExitCode.usage;
  }
  const command = (await load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    // `slime store add-file --help`: the subcommand's own help, where it has one.
    const sub = rest[0] !== undefined && !rest[0].startsWith('-') ? command.subcommandHelp?.[rest[0]] : undefined;
    const text = layoutHelp(sub ?? command.help);
    ctx.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return ExitCode.ok;
  }
  const json = jsonLog(rest);
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    if (e instanceof SlimeError) {
      const original = (e as { original?: unknown }).original;
      reportError(ctx, json, e.message, e.exitCode, debug ? ((original as Error | undefined)?.stack ?? e.stack) : undefined);
      return e.exitCode;
    }
    const err = e as Error;
    const message = `internal error in slime ${name}: ${err?.message ?? String(e)}; this is a bug in slime${debug ? '' : ' (run again with --debug for the stack trace)'}`;
    reportError(ctx, json, message, ExitCode.failure, debug ? err?.stack : undefined);
    return ExitCode.failure;
  }
}

/** Runs `slime` with this process's arguments and streams; the exit code becomes the process's. */
export function runCli(): void {
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

// `node dist/src/cli/main.js`; the bundle starts through bin.ts instead.
const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) runCli();
