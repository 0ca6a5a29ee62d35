/**
 * Text for durations, sizes and phases (failures: `failure.ts`), shared by the TUI and the plain
 * logger so both say the same thing the same way. Pure string functions: the
 * plain logger imports this and must never pull in ink or react.
 */
import { eastAsianWidth } from 'get-east-asian-width';
import type { DrvState, PhaseState, Transfer } from './state.js';

/** `0.4s`, `9.8s`, `42s`, `3m12s`, `1h05m`: short and fixed in shape, as a column needs. */
export function formatDuration(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 10_000) return `${(Math.floor(clamped / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(clamped / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `1 path`, `2 paths`, `0 paths`: a count and its noun, in the plural unless it is one. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units, one decimal: `812 B`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `↓ 12.3 MiB/25.1 MiB 4.2 MiB/s`; the total is left out when the server did not send one. */
export function formatTransfer(direction: 'download' | 'upload', t: Transfer): string {
  const arrow = direction === 'download' ? '↓' : '↑';
  const amount = t.total !== undefined ? `${formatBytes(t.bytes)}/${formatBytes(t.total)}` : formatBytes(t.bytes);
  const left = t.total !== undefined && t.bytesPerSecond > 0 && t.bytes < t.total ? `, ETA ${formatDuration(((t.total - t.bytes) / t.bytesPerSecond) * 1000)}` : '';
  return `${arrow} ${amount} ${formatBytes(t.bytesPerSecond)}/s${left}`;
}

/** What a recognizer counts, where the bare numbers would not say. */
const COUNTED_UNITS: Record<string, string> = { cargo: 'crates' };

/** `make`, `profile 12/44`, `compile 37/58 crates`, `compare 30/55 (30 ok)`. */
export function formatPhase(phase: PhaseState, recognizer?: string): string {
  let text = phase.name;
  if (phase.done !== undefined && phase.total !== undefined) text += ` ${phase.done}/${phase.total}`;
  else if (phase.done !== undefined) text += ` ${phase.done}`;
  const unit = recognizer !== undefined ? COUNTED_UNITS[recognizer] : undefined;
  if (unit !== undefined && phase.done !== undefined) text += ` ${unit}`;
  if (phase.passed !== undefined) text += ` (${phase.passed} ok)`;
  return text;
}

/** The detail column of a running derivation: transfers say more than a phase while they last. */
export function activityOf(d: DrvState): string | undefined {
  if (d.status === 'lock-wait') return d.lockHolder !== undefined ? `waiting for lock (${d.lockHolder})` : 'waiting for lock';
  const direction = d.download !== undefined ? 'download' : 'upload';
  const transfer = d.download ?? d.upload;
  const moving = d.status === 'fetching' || d.status === 'substituting';
  if (transfer !== undefined && (moving || d.phase === undefined)) return formatTransfer(direction, transfer);
  return d.phase !== undefined ? formatPhase(d.phase, d.recognizer) : undefined;
}

/**
 * Build output as safe plain text: colour codes, cursor movement and carriage
 * returns are dropped and tabs expanded, so one log line occupies one screen line
 * and cannot move the cursor of the TUI or garble a CI log.
 */
export function stripControl(line: string): string {
  return line
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g, '')
    .replace(/\t/g, '    ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, '');
}

/**
 * Columns a code point takes, never fewer than Ink counts for it (string-width, which asks
 * get-east-asian-width code point by code point and counts an emoji grapheme as 2): a line
 * cut here must not come out wider in Ink, which would then wrap or truncate it (a log
 * pane's line wrapped is a frame one line taller than planned). So 0 only for combining
 * marks, the joiner and the text variation selectors; the emoji variation selector counts
 * 1, since it makes a narrow character (☺) two columns wide; sequences of several wide
 * code points (a family, a skin tone) count more than Ink gives them, which only cuts the
 * line a little earlier.
 */
function columnsOf(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0e)) return 0;
  if (cp === 0xfe0f) return 1;
  return eastAsianWidth(cp);
}

/**
 * Cuts control-free text to `width` columns, with no ellipsis (a log line cut at
 * the screen edge, as `less -S` does). Every changing text the TUI shows passes
 * through here so that Ink never has to truncate it: Ink's truncation measures
 * grapheme by grapheme and memoizes every string it ever cut, forever, which a
 * stream of log lines would turn into a leak.
 */
export function fitWidth(text: string, width: number): string {
  if (text.length <= width && /^[\x20-\x7e]*$/.test(text)) return text;
  if (/^[\x20-\x7e]*$/.test(text)) return text.slice(0, Math.max(0, width));
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const w = columnsOf(ch.codePointAt(0)!);
    if (used + w > width) break;
    used += w;
    end += ch.length;
  }
  return text.slice(0, end);
}

/**
 * Cuts text to `width` columns like `fitWidth`, but ends a cut text with `…` so a
 * reader sees that something was left out: for rows and descriptions, not log lines.
 */
export function fitWidthMarked(text: string, width: number): string {
  const cut = fitWidth(text, width);
  if (cut.length === text.length || width <= 0) return cut;
  return `${fitWidth(text, width - 1)}…`;
}
