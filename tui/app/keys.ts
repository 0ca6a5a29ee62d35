import { useInput, type Key } from 'ink';
import { useLayoutEffect, useRef } from 'react';

/**
 * Ink hands over what arrived in one read as one input: keys typed faster than the
 * app reads them, or pasted text, come as `"/needle"`, and Ink recognizes no key in
 * `"\x7f\x7f"`. Each character is its own keystroke here, the control characters a
 * terminal sends for Enter, Backspace and Tab read as those keys, so every key map
 * sees one key at a time.
 */
export function keystrokes(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  if (chars.length <= 1) return [[input, key]];
  return chars.map((ch) => {
    const plain = { ...key, return: ch === '\r', backspace: ch === '\x7f' || ch === '\b', tab: ch === '\t', ctrl: false };
    if (plain.return || plain.backspace || plain.tab) return ['', plain];
    const code = ch.charCodeAt(0);
    // Ctrl-A … Ctrl-Z arrive as 1 … 26, and are read as Ink reads them alone: the letter, with ctrl.
    if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...plain, ctrl: true }];
    return [code < 32 ? '' : ch, plain];
  });
}

/**
 * `useInput` with the handler of the frame on screen. Ink subscribes and
 * unsubscribes handlers in passive effects, which may run after a frame is drawn:
 * a key pressed in between would reach the previous frame's handler, or that of a
 * screen already gone, and act on what the user no longer sees. Layout effects run
 * before any input can.
 */
export function useKeys(handler: (input: string, key: Key) => void): void {
  const latest = useRef<typeof handler | undefined>(undefined);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useLayoutEffect(
    () => () => {
      latest.current = undefined;
    },
    [],
  );
  useInput((input, key) => latest.current?.(input, key));
}
