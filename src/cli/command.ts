import type { Writable } from 'node:stream';

/** What every `slime CMD` module exports; `main.ts` loads a command only when it runs. */
export interface Command {
  /** One line for `slime --help`. */
  summary: string;
  /** The whole text of `slime CMD --help`. */
  help: string;
  /** The text of `slime CMD SUB --help`, per subcommand, for commands that have them. */
  subcommandHelp?: Readonly<Record<string, string>>;
  run(args: string[], ctx: CliContext): Promise<number>;
}

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  /** The project root: where `derivations/`, `store/` and `result` links live. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}
