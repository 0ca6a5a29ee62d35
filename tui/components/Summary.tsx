import { Text } from 'ink';
import { formatDuration } from '../../src/run/format.js';
import type { RunSummary } from '../../src/run/state.js';

/** The last line of a run: how it ended, how long it took, and what each derivation came to. */
export function Summary({ summary }: { summary: RunSummary }) {
  const failed = summary.failed > 0;
  return (
    <Text wrap="truncate-end">
      <Text color={failed ? 'red' : 'green'} bold>
        {failed ? `✖ Failed after ${formatDuration(summary.wallMs)}` : `✔ Done in ${formatDuration(summary.wallMs)}`}
      </Text>
      {': '}
      <Text color="green">{summary.built} built</Text>
      {', '}
      <Text color="gray">{summary.cached} cached</Text>
      {', '}
      <Text color="green">{summary.substituted} substituted</Text>
      {', '}
      <Text color={failed ? 'red' : undefined}>{summary.failed} failed</Text>
      {summary.skipped > 0 ? <Text color="gray">{`, ${summary.skipped} skipped`}</Text> : ''}
      {(summary.cancelled ?? 0) > 0 ? <Text color="yellow">{`, ${summary.cancelled} cancelled`}</Text> : ''}
      {(summary.notNeeded ?? 0) > 0 ? <Text color="gray">{`, ${summary.notNeeded} not needed`}</Text> : ''}
    </Text>
  );
}
