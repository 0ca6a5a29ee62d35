/**
 * The last lines a build wrote, as an immutable structure whose append is O(1).
 *
 * The reducer must stay pure, yet a build can write 50,000 lines a second: copying
 * an array per line would be quadratic in the tail size. A cons list shares every
 * older node with the previous state; once it grows to twice the capacity it is cut
 * back to the capacity in one O(capacity) copy, so memory stays flat and the cost
 * per line stays constant when amortized.
 */

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

interface LogNode extends LogLine {
  readonly next: LogNode | null;
}

export interface LogTail {
  /** Newest line first. */
  readonly head: LogNode | null;
  /** Nodes reachable from `head`; at most twice the capacity. */
  readonly length: number;
  /** Every line ever appended, including those dropped: numbers the lines. */
  readonly total: number;
}

export const EMPTY_TAIL: LogTail = { head: null, length: 0, total: 0 };

/** A minified bundle or a progress bar without newlines must not defeat the bound. */
export const MAX_LINE_CHARS = 4096;

/** `tail` with one more line, as a new tail: nobody else has seen it yet, so its maker may grow it in place. */
export function appendLine(tail: LogTail, stream: LogLine['stream'], text: string, capacity: number): MutableLogTail {
  const next = { head: tail.head, length: tail.length, total: tail.total };
  appendInPlace(next, stream, text, capacity);
  return next;
}

/**
 * Appends to a tail object nobody else has seen yet (one a batch of events just
 * created): the nodes stay shared and immutable, only the wrapper is reused, which
 * saves an allocation per line on the hot path.
 */
export type MutableLogTail = { -readonly [K in keyof LogTail]: LogTail[K] };

export function appendInPlace(tail: MutableLogTail, stream: LogLine['stream'], text: string, capacity: number): void {
  const clipped = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text;
  const head: LogNode = { stream, text: clipped, next: tail.head };
  tail.total++;
  if (tail.length + 1 < 2 * capacity) {
    tail.head = head;
    tail.length++;
  } else {
    tail.head = copyPrefix(head, capacity);
    tail.length = Math.min(capacity, tail.length + 1);
  }
}

function copyPrefix(head: LogNode, count: number): LogNode | null {
  const lines = lastLines({ head, length: count, total: count }, count);
  let copy: LogNode | null = null;
  for (const line of lines) copy = { stream: line.stream, text: line.text, next: copy };
  return copy;
}

/** The newest `n` lines, oldest first (the order a pane prints them in). */
export function lastLines(tail: LogTail, n: number): LogLine[] {
  const out: LogLine[] = [];
  for (let node = tail.head; node !== null && out.length < n; node = node.next) out.push(node);
  return out.reverse();
}
