import type { Writable } from 'node:stream';

/** What every `slime CMD` module exports; `main.ts` loads a command only when it runs. */
export interface Command {
  /** One line for `slime --help`. */
  summary: string;
  /** The whole text of `slime CMD --help`. */
  help: string;
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
