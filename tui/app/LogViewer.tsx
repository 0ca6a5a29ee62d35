import { readFile, stat } from 'node:fs/promises';
import { Box, Text } from 'ink';
import { useEffect, useReducer, useState } from 'react';
import { fitWidth, fitWidthMarked, stripControl } from '../../src/run/format.js';
import { HelpLine } from './HelpLine.js';
import { useKeys } from './keys.js';
import { matchPosition, matches, openLog, reduceLogView, type LogView } from './log-view.js';

/** A running build keeps writing its log; this is how often the viewer looks again. */
const POLL_MS = 1000;

type LogFile = { lines: string[] } | { error: string };

/** The log's lines, read again whenever the file grows. */
function useLogFile(file: string): LogFile | undefined {
  const [content, setContent] = useState<LogFile>();
  useEffect(() => {
    let size = -1;
    let cancelled = false;
    const load = async () => {
      try {
        const st = await stat(file);
        if (st.size === size) return;
        size = st.size;
        const text = await readFile(file, 'utf8');
        if (!cancelled) setContent({ lines: text.replace(/\n$/, '').split('\n').map(stripControl) });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (!cancelled) setContent({ error: err.code === 'ENOENT' ? 'there is no log: it was not built in this store' : err.message });
      }
    };
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [file]);
  return content;
}

const KEYS = '↑↓/jk scroll · PgUp/PgDn page · g/G start/end · / search · n/N next/previous match · Esc back · q quit';
const SEARCH_KEYS = 'type the text · Enter find · Esc cancel';

export interface LogViewerProps {
  name: string;
  file: string;
  width: number;
  /** Lines the whole viewer may use: header, the log, and the status line. */
  height: number;
  onBack: () => void;
  onQuit: () => void;
}

export function LogViewer({ name, file, width, height, onBack, onQuit }: LogViewerProps) {
  const paneHeight = Math.max(1, height - 3);
  const content = useLogFile(file);
  const [view, dispatch] = useReducer(reduceLogView, undefined, () => openLog([], paneHeight));
  const lines = content !== undefined && 'lines' in content ? content.lines : undefined;
  useEffect(() => {
    if (lines !== undefined) dispatch({ type: 'loaded', lines });
  }, [lines]);
  useEffect(() => dispatch({ type: 'resize', height: paneHeight }), [paneHeight]);
  useKeys((input, key) => dispatch({ type: 'key', input, key }));
  useEffect(() => {
    if (view.leave === 'back') onBack();
    else if (view.leave === 'quit') onQuit();
  }, [view.leave]);

  const shown = view.lines.slice(view.top, view.top + paneHeight);
  const gutter = String(Math.max(1, view.lines.length)).length;
  const range = view.lines.length === 0 ? 'empty' : `lines ${view.top + 1}–${view.top + shown.length} of ${view.lines.length}`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        {fitWidth(`── log of ${name} · ${range} ──`, width)}
      </Text>
      {content !== undefined && 'error' in content ? (
        <Text color="red">{fitWidthMarked(`${content.error}: ${file}`, width)}</Text>
      ) : (
        shown.map((line, k) => (
          <LogRow
            key={view.top + k}
            number={view.top + k + 1}
            gutter={gutter}
            text={line}
            query={view.query}
            current={view.top + k === view.match}
            width={width}
          />
        ))
      )}
      <Box flexGrow={1} minHeight={1} />
      <SearchStatus view={view} width={width} />
    </Box>
  );
}

function SearchStatus({ view, width }: { view: LogView; width: number }) {
  if (view.draft !== undefined) {
    return (
      <Text wrap="truncate-end">
        <Text color="yellow">{fitWidth(`/${view.draft}`, width)}</Text>
        <Text inverse> </Text>
        <Text dimColor>{`   ${SEARCH_KEYS}`}</Text>
      </Text>
    );
  }
  const position = matchPosition(view);
  const status = view.notFound
    ? `not found: ${view.query}`
    : position !== undefined
      ? `/${view.query}: match ${position.index} of ${position.count}`
      : undefined;
  return <HelpLine keys={KEYS} status={status} failed={view.notFound} width={width} />;
}

/** One line: its number, then the text with every match of the search shown inverse. */
function LogRow(props: { number: number; gutter: number; text: string; query: string; current: boolean; width: number }) {
  const { number, gutter, text, query, current, width } = props;
  const visible = fitWidth(text, Math.max(0, width - gutter - 3));
  return (
    <Text wrap="truncate-end">
      <Text color="yellow">{current ? '›' : ' '}</Text>
      <Text dimColor>{`${String(number).padStart(gutter)} `}</Text> {matches(visible, query) ? <Highlighted text={visible} query={query} /> : visible || ' '}
    </Text>
  );
}

function Highlighted({ text, query }: { text: string; query: string }) {
  const parts: { text: string; hit: boolean }[] = [];
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(q); i !== -1; i = lower.indexOf(q, i + q.length)) {
    if (i > at) parts.push({ text: text.slice(at, i), hit: false });
    parts.push({ text: text.slice(i, i + q.length), hit: true });
    at = i + q.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), hit: false });
  return (
    <>
      {parts.map((p, i) =>
        p.hit ? (
          <Text key={i} inverse color="yellow">
            {p.text}
          </Text>
        ) : (
          <Text key={i}>{p.text}</Text>
        ),
      )}
    </>
  );
}
