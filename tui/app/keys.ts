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
 * `useInput` with the handler of the frame on screen. Ink re-subscribes a new
 * handler in a passive effect, which may run after the frame is drawn: a key
 * pressed in between would reach the previous frame's handler and act on a
 * selection the user no longer sees. A layout effect runs before any input can.
 */
export function useKeys(handler: (input: string, key: Key) => void): void {
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useInput((input, key) => latest.current(input, key));
}
