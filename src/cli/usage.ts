/**
 * `slime --help`'s text: the commands with their one-line summaries, the common
 * options, the exit codes. Apart from main.ts (which dispatches) so that the launcher
 * (launch.ts) can print it from a small file of its own, without reading the CLI
 * bundle: `slime --help` then costs little more than Node's start.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The commands' one-line summaries, in main.ts's order of its commands, so that
 * `slime --help` loads no command module (each pulls in part of the engine).
 * test/cli-help.test.ts checks that these are every command's, in that order, and
 * equal the modules' own.
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
  cache: 'push to, serve, inspect and verify binary caches (Nix format)',
  key: 'make a key pair for signing a binary cache',
  check: 'rebuild and compare: is every output reproducible?',
  'why-depends': 'show the chain of references from one store path to another',
  diff: 'say why two derivations differ, down to the first differing input',
  completion: 'print a shell completion script (bash, zsh, fish)',
  run: 'run a Python script on the tier the router picks (Full or Light)',
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

/** The text of `slime --help` for the project at `root`, with `commands` as [name, summary]. */
export function usageText(root: string, commands: readonly (readonly [string, string])[]): string {
  const lines = commands.map(([name, summary]) => `  ${name.padEnd(12)} ${summary}`);
  return `slime — declarative, content-addressed builds (Nix-compatible derivations and store paths)

Usage: slime COMMAND [ARGS...]     (slime COMMAND --help for details)

Commands:
${lines.join('\n')}

Common options:
  --store DIR        the store directory (default: $SLIME_STORE, else ${path.join(root, 'store')})
  -f, --file FILE    load derivations from FILE instead of derivations/index.ts
  --debug            print stack traces with errors (or SLIME_DEBUG=1)

${EXIT_CODES}
`;
}

/**
 * What the launcher answers by itself: `slime`, `slime --help`, `-h`, `help` with
 * nothing else on the line (anything more, `--debug` included, goes to main.ts).
 * The exit code, or undefined when the arguments are not that.
 */
export function answerUsage(args: readonly string[], cwd: string, out: () => NodeJS.WritableStream): number | undefined {
  if (args.length > 1) return undefined;
  const [first] = args;
  if (first !== undefined && first !== '--help' && first !== '-h' && first !== 'help') return undefined;
  out().write(usageText(findProjectRoot(cwd), Object.entries(SUMMARIES)));
  // As main.ts: no command at all is a usage error.
  return first === undefined ? 2 : 0;
}
