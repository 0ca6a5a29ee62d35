import { Text } from 'ink';
import { stripControl } from '../format.js';
import type { LogLine } from '../log-tail.js';

/** The last lines of one build, under a header naming it; `hint` says how to switch. */
export function LogPane(props: { name: string; lines: readonly LogLine[]; totalLines: number; hint?: string }) {
  const { name, lines, totalLines, hint } = props;
  return (
    <>
      <Text dimColor wrap="truncate-end">
        {`── log of ${name} · ${totalLines === 0 ? 'no output yet' : `${totalLines} line${totalLines === 1 ? '' : 's'}`}${hint !== undefined ? ` · ${hint}` : ''} ──`}
      </Text>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {stripControl(line.text) || ' '}
        </Text>
      ))}
    </>
  );
}
