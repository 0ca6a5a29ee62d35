/**
 * Runs a script on a realized tier with the user's argv, stdin, stdout and stderr passed
 * straight through (inherited file descriptors: no copying, no buffering), and reports
 * how it ended and how long it took.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';

/** How to start one tier's interpreter on a script: the program and the arguments before the script's own. */
export interface TierCommand {
  file: string;
  /** Arguments that go before the script's argv (`script` is substituted by the caller). */
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ScriptRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
}

export function runScript(command: TierCommand, cwd: string): Promise<ScriptRun> {
  const began = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, { cwd, stdio: 'inherit', env: command.env ?? process.env });
    // The child shares the terminal: Ctrl-C reaches it directly; slime must outlive it to report.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', (e) => {
      process.off('SIGINT', ignore);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve({ exitCode: code, signal, wallMs: Number(process.hrtime.bigint() - began) / 1e6 });
    });
  });
}

/** The exit status a shell would report for this run: the code, or 128 + the signal's number. */
export function shellStatus(run: ScriptRun): number {
  if (run.exitCode !== null) return run.exitCode;
  const n = run.signal ? (osConstants.signals as Record<string, number>)[run.signal] : undefined;
  return 128 + (n ?? 1);
}
