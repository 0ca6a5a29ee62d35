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
  };
}
