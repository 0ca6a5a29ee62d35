/**
 * The one wording of a failure, used wherever a failure is shown: the plain log, the
 * TUI's tree and failure list, the CLI's closing `error:` lines and the message of a
 * `BuildFailure`. One line, lower case, no trailing period; it says what happened,
 * and the caller adds where (phase, log path) and what to do.
 */
import type { FailureReason } from '../events.js';
import { formatDuration } from './format.js';

export function describeFailure(r: FailureReason): string {
  switch (r.kind) {
    case 'exit':
      if (r.signal !== null) return `builder killed by ${r.signal}`;
      return r.exitCode !== null ? `builder exited with code ${r.exitCode}` : 'builder exited';
    case 'timeout':
      return `timed out after ${formatDuration(r.timeoutMs)}`;
    case 'hash-mismatch':
      return `hash mismatch${r.url !== undefined ? ` from ${r.url}` : ''}: expected ${r.expected}, got ${r.actual}`;
    case 'fetch':
      return r.tried.length === 1
        ? `fetch failed: ${r.tried[0]!.mirror}: ${r.tried[0]!.error}`
        : `fetch failed on ${r.tried.length} mirrors: ${r.tried.map((t) => `${t.mirror}: ${t.error}`).join('; ')}`;
    case 'no-output':
      return `builder did not create output '${r.output}' ($${r.output})`;
    case 'interrupted':
      return `interrupted by ${r.signal}`;
    case 'internal':
      return r.message;
  }
}
