import { Text } from 'ink';
import { formatDuration } from '../format.js';
import type { Counts, Eta } from '../state.js';

/**
 * A bar split by outcome, not just done/undone: green for built or substituted,
 * grey for cached or skipped, red for failed, so a bad run shows in the bar itself.
 */
export function ProgressBar({ counts, width }: { counts: Counts; width: number }) {
  const scale = (n: number) => (counts.total === 0 ? 0 : Math.round((n / counts.total) * width));
  const ok = scale(counts.built + counts.substituted);
  const grey = Math.min(width - ok, scale(counts.cached + counts.skipped));
  const red = Math.min(width - ok - grey, scale(counts.failed));
  return (
    <Text>
      <Text color="green">{'█'.repeat(ok)}</Text>
      <Text color="gray">{'█'.repeat(grey)}</Text>
      <Text color="red">{'█'.repeat(red)}</Text>
      <Text dimColor>{'░'.repeat(width - ok - grey - red)}</Text>
    </Text>
  );
}

export function formatEta(eta: Eta): string {
  return `~${formatDuration(eta.ms)}${eta.unknown > 0 ? '+' : ''}`;
}

/** `3/7 ███░░░ 43%  ~3m12s left  ● 2 running  ✖ 1 failed  1m05s` */
export function OverallLine({ counts, eta, wallMs }: { counts: Counts; eta?: Eta; wallMs: number }) {
  const percent = counts.total === 0 ? 0 : Math.floor((counts.finished / counts.total) * 100);
  return (
    <Text wrap="truncate-end">
      <Text bold>
        {counts.finished}/{counts.total}
      </Text>{' '}
      <ProgressBar counts={counts} width={20} /> {String(percent).padStart(3)}%
      {eta !== undefined ? `  ${formatEta(eta)} left` : ''}
      {counts.active > 0 ? <Text color="yellow">{`  ● ${counts.active} running`}</Text> : ''}
      {counts.failed > 0 ? <Text color="red">{`  ✖ ${counts.failed} failed`}</Text> : ''}
      <Text dimColor>{`  ${formatDuration(wallMs)}`}</Text>
    </Text>
  );
}
