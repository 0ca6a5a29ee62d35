import { Text, useInput } from 'ink';
import { useMemo, useRef, useState } from 'react';
import { fitWidth, stripControl } from '../format.js';
import { INITIAL_VIEWER, matcher, topOf, viewerReduce, type ViewerAction, type ViewerState } from '../log-viewer.js';

export interface LogViewerProps {
  title: string;
  lines: readonly string[];
  state: ViewerState;
  /** Lines of log shown; the status line comes on top of these. */
  height: number;
  width: number;
}

/** One log line with the first occurrence of the search shown inverse. */
function LogViewerLine({ text, number, gutter, query, current, width }: {
  text: string;
  number: number;
  gutter: number;
  query: string;
  current: boolean;
  width: number;
}) {
  const clean = fitWidth(stripControl(text), Math.max(0, width - gutter - 1));
  const at = matcher(query)(clean);
  return (
    <Text wrap="truncate-end">
      <Text color={current ? 'yellow' : undefined} dimColor={!current}>
        {String(number).padStart(gutter - 1)}{current ? '▶' : ' '}
      </Text>{' '}
      {at === -1 ? (
        clean
      ) : (
        <>
          {clean.slice(0, at)}
          <Text inverse>{clean.slice(at, at + query.length)}</Text>
          {clean.slice(at + query.length)}
        </>
      )}
    </Text>
  );
}

/**
 * A window on a log with line numbers, the current search's matches shown inverse,
 * and a status line: where in the log the window is, the search and its hit count,
 * or the search being typed.
 */
export function LogViewer({ title, lines, state, height, width }: LogViewerProps) {
  const top = topOf(state, { lines, height });
  const shown = lines.slice(top, top + height);
  const gutter = String(lines.length).length + 1;
  // Counting every hit reads the whole log: only when the search or the log changes.
  const hits = useMemo(() => {
    if (state.query === '') return 0;
    const test = matcher(state.query);
    return lines.reduce((n, line) => (test(line) === -1 ? n : n + 1), 0);
  }, [lines, state.query]);
  const where = lines.length === 0 ? 'empty' : `lines ${top + 1}–${top + shown.length} of ${lines.length}`;
  const search = state.query === '' ? '' : ` · /${state.query} ${hits === 0 ? 'not found' : `${hits} line${hits === 1 ? '' : 's'}`}`;
  return (
    <>
      {state.editing !== undefined ? (
        <Text wrap="truncate-end">
          <Text color="yellow">/</Text>
          {state.editing}
          <Text inverse> </Text>
        </Text>
      ) : (
        <Text dimColor wrap="truncate-end">
          {fitWidth(`── ${title} · ${where}${search}${state.follow ? ' · following' : ''} ──`, width)}
        </Text>
      )}
      {shown.map((line, i) => (
        <LogViewerLine
          key={top + i}
          text={line}
          number={top + i + 1}
          gutter={gutter}
          query={state.query}
          current={top + i === state.match}
          width={width}
        />
      ))}
    </>
  );
}

/**
 * Viewer state driven by less-like keys: ↑/↓ or j/k a line, PgUp/PgDn or space/b a
 * page, g/G the ends (G follows again), `/` search, n/N next and previous match, Esc
 * to abandon a search being typed. `onExit` gets q, and Esc when not typing.
 */
export function useLogViewer(lines: readonly string[], height: number, opts: { isActive: boolean; onExit?: () => void }): ViewerState {
  const [state, setState] = useState<ViewerState>(INITIAL_VIEWER);
  // Keys can arrive faster than renders: what a key means depends on the state the
  // previous key left, not on the state this render saw.
  const latest = useRef(state);
  const act = (action: ViewerAction) => {
    latest.current = viewerReduce(latest.current, action, { lines, height });
    setState(latest.current);
  };
  useInput(
    (input, key) => {
      if (latest.current.editing !== undefined) {
        if (key.return) act({ type: 'search-submit' });
        else if (key.escape) act({ type: 'search-cancel' });
        else if (key.backspace || key.delete) act({ type: 'search-backspace' });
        else if (input !== '' && !key.ctrl && !key.meta) act({ type: 'search-input', text: input });
        return;
      }
      if (key.upArrow || input === 'k') act({ type: 'scroll', by: -1 });
      else if (key.downArrow || input === 'j') act({ type: 'scroll', by: 1 });
      else if (key.pageUp || input === 'b') act({ type: 'page', by: -1 });
      else if (key.pageDown || input === ' ') act({ type: 'page', by: 1 });
      else if (input === 'g' || key.home) act({ type: 'home' });
      else if (input === 'G' || key.end) act({ type: 'end' });
      else if (input === '/') act({ type: 'search-start' });
      else if (input === 'n') act({ type: 'next-match', direction: 1 });
      else if (input === 'N') act({ type: 'next-match', direction: -1 });
      else if (input === 'q' || key.escape) opts.onExit?.();
    },
    { isActive: opts.isActive },
  );
  return state;
}
