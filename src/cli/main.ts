#!/usr/bin/env node
/**
 * `slime CMD ...`: dispatches to one module per command, loaded only when it runs, so
 * that a no-op `slime realize` never loads the TUI, the fetcher or the cache client.
 */
import fs from 'node:fs';
import { ExitCode, SlimeError } from '../errors.js';
import { stopSpawner } from '../builder/spawner.js';
import type { CliContext, Command } from './command.js';
import { didYouMean } from '../suggest.js';
import { layoutHelp } from './help-layout.js';
import { findProjectRoot, SUMMARIES, usageText } from './usage.js';
import { lazyOutput, streamMade } from './stdio.js';

export { findProjectRoot, SUMMARIES };

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
export const commandNames = (): string[] => Object.keys(commands);

export async function loadCommand(name: string): Promise<Command | undefined> {
  return (await commands[name]?.())?.default;
}

async function usage(ctx: CliContext): Promise<string> {
  const lines = await Promise.all(Object.entries(commands).map(async ([name, load]) => [name, SUMMARIES[name] ?? (await load()).default.summary] as const));
  return usageText(ctx.cwd, lines);
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
    // The launcher answers the plainest of these itself (usage.ts's answerUsage), with the same text.
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
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'EPIPE') {
      // `slime nar dump P | head -c 100`: the reader went away, as with Nix's "writing to file: Broken pipe".
      reportError(ctx, json, `slime ${name}: the output pipe was closed before everything was written (EPIPE); the reader stopped early`, ExitCode.failure, debug ? err.stack : undefined);
      return ExitCode.failure;
    }
    const message = `internal error in slime ${name}: ${err?.message ?? String(e)}; this is a bug in slime${debug ? '' : ' (run again with --debug for the stack trace)'}`;
    reportError(ctx, json, message, ExitCode.failure, debug ? err?.stack : undefined);
    return ExitCode.failure;
  }
}

/** Runs `slime` with this process's arguments and streams; the exit code becomes the process's. */
export function runCli(): void {
  process.umask(0o022);
  const ctx: CliContext = {
    // Node's streams only when something needs more than text written (stdio.ts).
    stdout: lazyOutput(1, () => process.stdout, ignoreClosedOutput),
    stderr: lazyOutput(2, () => process.stderr, ignoreClosedOutput),
    // Read only by what takes input (the TUI's keys, `nar restore`): Node makes the
    // stream when process.stdin is first read, some 4 ms of a no-op realize.
    get stdin() {
      return process.stdin;
    },
    cwd: findProjectRoot(process.cwd()),
    env: process.env,
  };
  main(process.argv.slice(2), ctx).then(
    (code) => exit(code),
    (e) => {
      ctx.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
      exit(ExitCode.failure);
    },
  );
}

/**
 * Exits once the command is done and its output is written, rather than when the event
 * loop runs dry: Node then tears the whole heap down and joins V8's helper threads,
 * which took a no-op realize of the 1000-derivation graph 10-15 ms of its ~110
 * (process.exit skips it; 31 alternating runs, median 180 vs 164 ms under load).
 * Every command awaits its own work before it returns; what it wrote to a pipe may
 * still be queued (a pipe takes 64 KiB before its reader reads), so stdout and stderr
 * are drained first. 'exit' handlers still run (the launcher's code cache, the store's
 * database). The builders' helper is ended and reaped first, so that their CPU time
 * counts as this process's children's. Once reverted: a CI run had Ctrl-C leave a
 * build's path in the store, which turned out to be a race in the builder's launch
 * (test/builder-abort-at-launch.test.ts), not this exit.
 */
function exit(code: number): void {
  process.exitCode = code;
  void Promise.all([drained(streamMade(1)), drained(streamMade(2)), stopSpawner()]).then(() => process.exit());
}

/** Resolves when nothing written to `stream` is left queued, or it can take no more (closed, failed). */
function drained(stream: NodeJS.WriteStream | undefined): Promise<void> {
  return new Promise((resolve) => {
    // Never made into a stream: what was written went out synchronously.
    if (stream === undefined || stream.writableLength === 0 || stream.destroyed || stream.writableEnded) return resolve();
    stream.once('drain', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/**
 * A reader that stops early (`slime targets | head -1`) closes the pipe. Node ignores
 * SIGPIPE and reports EPIPE as an 'error' event, which unhandled is a crash with a stack
 * trace. Here the rest of the output is dropped and the command finishes as it would
 * have (a realize still completes its builds and registers them; nothing is left
 * half-done by exiting in the middle). Before stdout or stderr is a stream, stdio.ts
 * drops the output the same way.
 */
function ignoreClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}

// `node dist/src/cli/main.js`; the bundle starts through bin.ts instead.
const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) runCli();
