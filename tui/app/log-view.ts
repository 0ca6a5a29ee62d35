/**
 * The full-log viewer's state: which lines are on screen and what is being searched.
 *
 * A pure reducer, so scrolling and searching are tested without a terminal. The
 * component feeds it the file's lines (again as a running build appends to them)
 * and the pane's height; everything else comes from keys.
 */
import type { Key } from 'ink';
import { keystrokes } from './keys.js';

export interface LogView {
  readonly lines: readonly string[];
  /** Index of the first line on screen. */
  readonly top: number;
  /** Lines the pane shows. */
  readonly height: number;
  /** Stay at the end as a running build writes more, until the user scrolls away. */
  readonly follow: boolean;
  /** The last search submitted; `n` and `N` repeat it. */
  readonly query: string;
  /** The search being typed after `/`; undefined when none is. */
  readonly draft?: string;
  /** Index of the line holding the current match. */
  readonly match?: number;
  readonly notFound: boolean;
  /** Set by a key that leaves the viewer; the component acts on it. */
  readonly leave?: 'back' | 'quit';
}

export type LogViewAction =
  /** A key as Ink reports it: its meaning depends on whether a search is being typed. */
  | { type: 'key'; input: string; key: Key }
  | { type: 'loaded'; lines: readonly string[] }
  | { type: 'resize'; height: number }
  | { type: 'scroll'; by: number }
  /** By whole pages: PgUp is -1. */
  | { type: 'page'; by: number }
  | { type: 'top' }
  | { type: 'bottom' }
  | { type: 'search-open' }
  | { type: 'search-type'; text: string }
  | { type: 'search-erase' }
  | { type: 'search-cancel' }
  | { type: 'search-submit' }
  | { type: 'next'; step: 1 | -1 };

/** A failed build's error is at the end of its log, so a log opens there. */
export function openLog(lines: readonly string[], height: number): LogView {
  const view: LogView = { lines, top: 0, height: Math.max(1, height), follow: true, query: '', notFound: false };
  return { ...view, top: maxTop(view) };
}

function maxTop(v: Pick<LogView, 'lines' | 'height'>): number {
  return Math.max(0, v.lines.length - v.height);
}

function scrollTo(v: LogView, top: number): LogView {
  const clamped = Math.min(Math.max(0, top), maxTop(v));
  return { ...v, top: clamped, follow: clamped === maxTop(v) };
}

/** Case-insensitive, as a quick look for "error" should also find "Error". */
export function matches(line: string, query: string): boolean {
  return query !== '' && line.toLowerCase().includes(query.toLowerCase());
}

/** The next line at or after `from` (before, for -1) that matches, wrapping once around the log. */
function find(lines: readonly string[], query: string, from: number, step: 1 | -1): number | undefined {
  const n = lines.length;
  for (let k = 0; k < n; k++) {
    const i = (((from + step * k) % n) + n) % n;
    if (matches(lines[i]!, query)) return i;
  }
  return undefined;
}

/** A match is shown a few lines below the top, so the lines leading up to it are visible too. */
const CONTEXT_ABOVE = 3;

function showMatch(v: LogView, query: string, from: number, step: 1 | -1): LogView {
  const found = find(v.lines, query, from, step);
  if (found === undefined) return { ...v, query, match: undefined, notFound: true };
  const shown = scrollTo({ ...v, query, match: found, notFound: false }, found - CONTEXT_ABOVE);
  // Jumping to a match is reading, not following the end of the log.
  return { ...shown, follow: false };
}

export function reduceLogView(v: LogView, action: LogViewAction): LogView {
  switch (action.type) {
    case 'key':
      // Keys are read against the state each one leaves: in "/needle" the slash opens the search the rest is typed into.
      return keystrokes(action.input, action.key).reduce((view, [input, key]) => {
        if (view.leave !== undefined) return view;
        const meaning = logKey(view, input, key);
        if (meaning === undefined) return view;
        return typeof meaning === 'string' ? { ...view, leave: meaning } : reduceLogView(view, meaning);
      }, v);
    case 'loaded': {
      const next = { ...v, lines: action.lines };
      return v.follow ? { ...next, top: maxTop(next) } : scrollTo({ ...next, follow: false }, v.top);
    }
    case 'resize': {
      const next = { ...v, height: Math.max(1, action.height) };
      return v.follow ? { ...next, top: maxTop(next) } : { ...next, top: Math.min(v.top, maxTop(next)) };
    }
    case 'scroll':
      return scrollTo(v, v.top + action.by);
    case 'page':
      return scrollTo(v, v.top + action.by * Math.max(1, v.height - 1));
    case 'top':
      return scrollTo(v, 0);
    case 'bottom':
      return scrollTo(v, maxTop(v));
    case 'search-open':
      return { ...v, draft: '' };
    case 'search-type':
      return v.draft === undefined ? v : { ...v, draft: v.draft + action.text };
    case 'search-erase':
      return v.draft === undefined ? v : { ...v, draft: v.draft.slice(0, -1) };
    case 'search-cancel':
      return { ...v, draft: undefined };
    case 'search-submit': {
      if (v.draft === undefined) return v;
      // As in less, an empty search repeats the last one.
      const query = v.draft === '' ? v.query : v.draft;
      const closed = { ...v, draft: undefined };
      return query === '' ? closed : showMatch(closed, query, v.top, 1);
    }
    case 'next': {
      if (v.query === '') return v;
      const from = v.match !== undefined ? v.match + action.step : v.top;
      return showMatch(v, v.query, from, action.step);
    }
  }
}

/** How many lines match the current search, and which of them is the current one (1-based). */
export function matchPosition(v: LogView): { index: number; count: number } | undefined {
  if (v.query === '' || v.match === undefined) return undefined;
  let count = 0;
  let index = 0;
  v.lines.forEach((line, i) => {
    if (!matches(line, v.query)) return;
    count++;
    if (i === v.match) index = count;
  });
  return { index, count };
}

type KeyMeaning = Exclude<LogViewAction, { type: 'key' }> | 'back' | 'quit' | undefined;

/** What a key does in the viewer; while a search is typed, every printable key is text. */
export function logKey(view: LogView, input: string, key: Key): KeyMeaning {
  if (view.draft !== undefined) {
    if (key.return) return { type: 'search-submit' };
    if (key.escape) return { type: 'search-cancel' };
    if (key.backspace || key.delete) return { type: 'search-erase' };
    if (input !== '' && !key.ctrl && !key.meta) return { type: 'search-type', text: input };
    return undefined;
  }
  if (key.upArrow || input === 'k') return { type: 'scroll', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'scroll', by: 1 };
  if (key.pageUp) return { type: 'page', by: -1 };
  if (key.pageDown || input === ' ') return { type: 'page', by: 1 };
  if (key.home || input === 'g') return { type: 'top' };
  if (key.end || input === 'G') return { type: 'bottom' };
  if (input === '/') return { type: 'search-open' };
  if (input === 'n') return { type: 'next', step: 1 };
  if (input === 'N') return { type: 'next', step: -1 };
  if (key.escape || key.leftArrow) return 'back';
  if (input === 'q') return 'quit';
  return undefined;
}
