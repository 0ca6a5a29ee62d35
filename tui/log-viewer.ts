/**
 * A scrolling, searching view over a build log, as pure state and actions, for the
 * log viewer of `slime tui` (and any pane that shows more log than fits).
 *
 * The lines are not part of the state: a log grows while it is viewed, so every
 * action is given the lines and the height it acts on.
 */

export interface ViewerState {
  /** Index of the first line shown, when not following. */
  readonly top: number;
  /** Stick to the end as lines arrive, like `tail -f`. */
  readonly follow: boolean;
  /** The search in force; empty for none. */
  readonly query: string;
  /** The search being typed after `/`, until Enter or Esc. */
  readonly editing?: string;
  /** Index of the line holding the current match, or -1. */
  readonly match: number;
}

export type ViewerAction =
  | { type: 'scroll'; by: number }
  | { type: 'page'; by: 1 | -1 }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'search-start' }
  | { type: 'search-input'; text: string }
  | { type: 'search-backspace' }
  | { type: 'search-submit' }
  | { type: 'search-cancel' }
  | { type: 'next-match'; direction: 1 | -1 };

export interface ViewerContext {
  readonly lines: readonly string[];
  /** Lines of text the viewer shows at once. */
  readonly height: number;
}

export const INITIAL_VIEWER: ViewerState = { top: 0, follow: true, query: '', match: -1 };

/** The first line shown: the end of the log while following. */
export function topOf(state: ViewerState, ctx: ViewerContext): number {
  const last = Math.max(0, ctx.lines.length - ctx.height);
  return state.follow ? last : Math.min(Math.max(0, state.top), last);
}

/** Smart case, as in less and vim: a query with a capital letter is case-sensitive. */
export function matcher(query: string): (line: string) => number {
  if (query === '') return () => -1;
  if (query !== query.toLowerCase()) return (line) => line.indexOf(query);
  return (line) => line.toLowerCase().indexOf(query);
}

/** The next line from `from` (inclusive) in `direction` that matches, wrapping around; -1 if none. */
export function findMatch(lines: readonly string[], query: string, from: number, direction: 1 | -1): number {
  const test = matcher(query);
  const n = lines.length;
  for (let i = 0; i < n; i++) {
    const at = (((from + direction * i) % n) + n) % n;
    if (test(lines[at]!) !== -1) return at;
  }
  return -1;
}

/** Scrolls so that `line` sits a third of the way down, where the eye looks first. */
function reveal(state: ViewerState, ctx: ViewerContext, line: number): ViewerState {
  const top = topOf(state, ctx);
  // Following stops either way, or new lines would carry the match off the screen.
  if (line >= top && line < top + ctx.height) return { ...state, follow: false, top, match: line };
  return { ...state, follow: false, top: Math.max(0, line - Math.floor(ctx.height / 3)), match: line };
}

function scrollTo(state: ViewerState, ctx: ViewerContext, top: number): ViewerState {
  const last = Math.max(0, ctx.lines.length - ctx.height);
  const clamped = Math.min(Math.max(0, top), last);
  // Scrolling to the very end resumes following, as in `less +F`.
  return { ...state, top: clamped, follow: clamped === last };
}

export function viewerReduce(state: ViewerState, action: ViewerAction, ctx: ViewerContext): ViewerState {
  switch (action.type) {
    case 'scroll':
      return scrollTo(state, ctx, topOf(state, ctx) + action.by);
    case 'page':
      return scrollTo(state, ctx, topOf(state, ctx) + action.by * Math.max(1, ctx.height - 1));
    case 'home':
      return { ...state, top: 0, follow: false };
    case 'end':
      return { ...state, follow: true };
    case 'search-start':
      return { ...state, editing: '' };
    case 'search-input':
      return state.editing === undefined ? state : { ...state, editing: state.editing + action.text };
    case 'search-backspace':
      return state.editing === undefined ? state : { ...state, editing: state.editing.slice(0, -1) };
    case 'search-cancel':
      return { ...state, editing: undefined };
    case 'search-submit': {
      if (state.editing === undefined) return state;
      // An empty search repeats the last one, as `/` then Enter does in less.
      const query = state.editing === '' ? state.query : state.editing;
      const searched = { ...state, editing: undefined, query };
      const found = findMatch(ctx.lines, query, topOf(state, ctx), 1);
      return found === -1 ? { ...searched, match: -1 } : reveal(searched, ctx, found);
    }
    case 'next-match': {
      if (state.query === '') return state;
      const from = state.match === -1 ? topOf(state, ctx) : state.match + action.direction;
      const found = findMatch(ctx.lines, state.query, from, action.direction);
      return found === -1 ? { ...state, match: -1 } : reveal(state, ctx, found);
    }
  }
}
