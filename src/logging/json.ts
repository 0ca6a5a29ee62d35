/**
 * `--log-format json`: exactly the event objects, one per line, so that a run can be
 * replayed into the TUI or read by another program. No ink or react here.
 */
import type { EventSink, SlimeEvent } from '../events.js';

export function jsonLogger(out: NodeJS.WritableStream): EventSink {
  return {
    emit(event: SlimeEvent): void {
      out.write(`${JSON.stringify(event)}\n`);
    },
    close: () => flushed(out),
  };
}

/**
 * Resolves once everything written to `out` so far has been handed to the system:
 * a pipe takes writes asynchronously, and a CLI that exits right after the run
 * would otherwise cut the end of its log.
 */
export function flushed(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if (!out.writable) resolve();
    else out.write('', () => resolve());
  });
}
