import { Box, Text } from 'ink';
import { fitWidth, fitWidthMarked } from '../../src/run/format.js';
import { summaryOf } from '../components/Results.js';
import type { TargetInfo } from './backend.js';

/** How this session's run of a target went, which says more than the store's state. */
export type RunMark = 'running' | 'failed' | undefined;

interface Mark {
  readonly symbol: string;
  readonly color?: 'green' | 'yellow' | 'red' | 'gray';
}

/** The colours of the realize view: green done, yellow running, red failed, grey nothing yet. */
export function markOf(t: TargetInfo, run: RunMark): Mark {
  if (run === 'running') return { symbol: '●', color: 'yellow' };
  if (run === 'failed') return { symbol: '✖', color: 'red' };
  if (t.state === 'realized') return { symbol: '✔', color: 'green' };
  if (t.state === 'partly') return { symbol: '◐' };
  return { symbol: '○', color: 'gray' };
}

function stateText(t: TargetInfo, run: RunMark): string {
  if (run === 'running') return 'realizing';
  const counts = `${t.valid}/${t.total}`;
  return `${run === 'failed' ? 'failed' : t.state} ${counts}`;
}

function resultText(t: TargetInfo): { text: string; ok: boolean } | undefined {
  if (t.report === undefined) return t.reportError !== undefined ? { text: 'unreadable report', ok: false } : undefined;
  const all = [t.report, ...(t.moreReports ?? [])];
  if (all.length === 1 && t.report.runner === undefined) {
    return { text: `${t.report.passed}/${t.report.total} bit-exact`, ok: t.report.passed === t.report.total };
  }
  // The Light tier: one report per runner; accepted differences do not make it red.
  const ok = all.every((r) => summaryOf(r).ok);
  return { text: all.map((r) => `${r.passed}/${r.total}`).join(' ') + ' bit-exact', ok };
}

export function TargetList(props: { targets: readonly TargetInfo[]; selected: number; runMarks: Readonly<Record<string, RunMark>>; width: number }) {
  const { targets, selected, runMarks, width } = props;
  const nameWidth = targets.reduce((w, t) => Math.max(w, t.name.length), 6);
  const stateWidth = targets.reduce((w, t) => Math.max(w, stateText(t, runMarks[t.name]).length), 5);
  const resultWidth = targets.reduce((w, t) => Math.max(w, resultText(t)?.text.length ?? 0), 11);
  // Marker, symbol and a space, then the columns with two spaces after each.
  const descriptionWidth = Math.max(0, width - 5 - nameWidth - 2 - stateWidth - 2 - resultWidth - 2);
  return (
    <Box flexDirection="column">
      <Text dimColor wrap="truncate-end">
        {`     ${'TARGET'.padEnd(nameWidth)}  ${'STATE'.padEnd(stateWidth)}  ${'SAMPLES'.padEnd(resultWidth)}  `}
        {fitWidth('DESCRIPTION', descriptionWidth)}
      </Text>
      {targets.map((t, i) => {
        const run = runMarks[t.name];
        const mark = markOf(t, run);
        const result = resultText(t);
        const here = i === selected;
        return (
          <Text key={t.name} wrap="truncate-end">
            <Text color="yellow">{here ? ' › ' : '   '}</Text>
            <Text color={mark.color}>{mark.symbol}</Text>
            <Text bold={here}>{` ${t.name.padEnd(nameWidth)}`}</Text>
            {'  '}
            <Text color={mark.color === 'gray' ? 'gray' : undefined}>{stateText(t, run).padEnd(stateWidth)}</Text>
            {'  '}
            <Text color={result === undefined ? undefined : result.ok ? 'green' : 'red'}>{(result?.text ?? '—').padEnd(resultWidth)}</Text>
            {'  '}
            <Text dimColor>{fitWidthMarked(t.description, descriptionWidth)}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
