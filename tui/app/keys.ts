import type { Key } from 'ink';

/**
 * Ink hands over what arrived in one read as one input: keys typed faster than the
 * app reads them, or pasted text, come as `"/needle"`. Each character is its own
 * keystroke here, so every key map sees one key at a time.
 */
export function keystrokes(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  if (chars.length <= 1) return [[input, key]];
  return chars.map((ch) => [ch, key]);
}
