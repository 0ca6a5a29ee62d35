import { Text } from 'ink';
import { formatDuration } from '../../src/run/format.js';
import type { Counts, Eta } from '../../src/run/state.js';

/**
 * A bar split by outcome, not just done/undone: green for built or substituted,
 * grey for cached or skipped, red for failed, so a bad run shows in the bar itself.
 */
export function ProgressBar({ counts, width }: { counts: Counts; width: number }) {
  const scale = (n: number) => (counts.total === 0 ? 0 : Math.round((n / counts.total) * width));
  const ok = scale(counts.built + counts.substituted);
  const grey = Math.min(width - ok, scale(counts.cached + counts.skipped + counts.cancelled + counts.notNeeded));
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

function formatEta(eta: Eta): string {
  return `~${formatDuration(eta.ms)}${eta.unknown > 0 ? '+' : ''}`;
}

/**
 * `3/7 ███░░░ 43%  ~3m12s left  ● 2 running  ✖ 1 failed  1m05s`, fitted to `width`
 * by shortening the bar, then dropping the counts the tree shows anyway: this line
 * changes every second, and Ink remembers every line it ever had to truncate.
 */
export function OverallLine({ counts, eta, wallMs, width }: { counts: Counts; eta?: Eta; wallMs: number; width: number }) {
  const percent = counts.total === 0 ? 0 : Math.floor((counts.finished / counts.total) * 100);
  const head = `${counts.finished}/${counts.total} `;
  const tail = ` ${String(percent).padStart(3)}%${eta !== undefined ? `  ${formatEta(eta)} left` : ''}`;
  const wall = `  ${formatDuration(wallMs)}`;
  let running = counts.active > 0 ? `  ● ${counts.active} running` : '';
  let failed = counts.failed > 0 ? `  ✖ ${counts.failed} failed` : '';
  const room = () => width - head.length - tail.length - wall.length - running.length - failed.length;
  if (room() < 5) running = '';
  if (room() < 5) failed = '';
  const barWidth = Math.min(20, room());
  return (
    <Text wrap="truncate-end">
      <Text bold>{head}</Text>
      {barWidth >= 5 ? <ProgressBar counts={counts} width={barWidth} /> : null}
      {tail}
      {running !== '' ? <Text color="yellow">{running}</Text> : null}
      {failed !== '' ? <Text color="red">{failed}</Text> : null}
      <Text dimColor>{wall}</Text>
    </Text>
  );
}
