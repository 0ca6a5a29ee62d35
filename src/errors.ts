/**
 * Errors that reach the user. Each names the thing, the cause and the next step, and
 * carries the process exit code. The codes follow Nix's where Nix has one.
 */
import type { FailureReason } from './events.js';
import { describeFailure } from './run/failure.js';

export const ExitCode = {
  ok: 0,
  /** Something went wrong that is not one of the cases below. */
  failure: 1,
  /** The command line was wrong: unknown command, option or target. */
  usage: 2,
  /** A build failed (Nix: 100). */
  buildFailed: 100,
  /** A build ran past its timeout (Nix: 101). */
  timeout: 101,
  /** A fixed-output derivation or fetched file had another hash (Nix: 102). */
  hashMismatch: 102,
  /** A rebuild did not reproduce the stored output (Nix: 104). */
  notDeterministic: 104,
  /** Interrupted by Ctrl-C / SIGINT (128 + 2, as shells report it). */
  interrupted: 130,
} as const;

/** What a shell reports for a process ended by each signal slime stops on: 128 + its number. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: ExitCode.interrupted, SIGTERM: 143 };

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class SlimeError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
    this.name = 'SlimeError';
  }
}

export class UsageError extends SlimeError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/**
 * A derivation that did not produce valid outputs. The reason is data (it travels in
 * the `failed` event); the message is its one wording (`run/failure.ts`), and the
 * exit code is Nix's for that kind of failure.
 */
export class BuildFailure extends SlimeError {
  constructor(
    readonly reason: FailureReason,
    readonly phase?: string,
    readonly logPath?: string,
    readonly keptBuildDir?: string,
  ) {
    super(describeFailure(reason), exitCodeOfFailure(reason));
    this.name = 'BuildFailure';
  }
}

export function exitCodeOfFailure(reason: FailureReason): number {
  switch (reason.kind) {
    case 'timeout':
      return ExitCode.timeout;
    case 'hash-mismatch':
      return ExitCode.hashMismatch;
    case 'interrupted':
      return ExitCode.interrupted;
    default:
      return ExitCode.buildFailed;
  }
}
