import { ExitCode, SlimeError } from '../errors.js';

/**
 * The fetch was cancelled through its AbortSignal (Ctrl-C, or the scheduler giving up).
 * Named `AbortError` like the DOM's, so code that checks `err.name` treats it as any
 * other cancellation; a SlimeError so that the CLI exits with the interrupted code.
 */
export class FetchAbortedError extends SlimeError {
  constructor(what: string, cause: unknown) {
    super(`fetch of ${what} was cancelled; nothing was kept`, ExitCode.interrupted);
    this.name = 'AbortError';
    this.cause = cause;
  }
}

/**
 * One mirror could not deliver the file, for a reason worth telling the user; the
 * fetcher records `reason` and goes on to the next mirror. Never reaches the user alone.
 */
export class MirrorFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MirrorFailure';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new FetchAbortedError(what, signal.reason);
}
