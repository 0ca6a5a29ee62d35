/**
 * `--log-format json`: exactly the event objects, one per line, so that a run can be
 * replayed into the TUI or read by another program. No ink or react here.
 */
import type { EventSink, SlimeEvent } from '../events.js';

export function jsonLogger(out: NodeJS.WritableStream): EventSink {
  // The lines of one turn of the event loop go out in one write: a no-op run emits an
  // event per derivation at once, and a write (a system call on a terminal or a file) each
  // cost more than the run itself.
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  return {
    emit(event: SlimeEvent): void {
      pending.push(`${JSON.stringify(event)}\n`);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close: () => {
      flush();
      return flushed(out);
    },
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
