import { Text } from 'ink';
import { fitWidth, stripControl } from '../../src/run/format.js';
import type { LogLine } from '../../src/run/log-tail.js';

/**
 * The last lines of one build, under a header naming it; `hint` says how to switch.
 *
 * The lines are one text, each cut to `width` here: the pane changes every frame of a
 * noisy build, and a text per line cost React and Ink's layout a node each, every frame.
 */
export function LogPane(props: { name: string; lines: readonly LogLine[]; totalLines: number; width: number; hint?: string }) {
  const { name, lines, totalLines, width, hint } = props;
  return (
    <>
      <Text dimColor wrap="truncate-end">
        {fitWidth(`── log of ${name} · ${totalLines === 0 ? 'no output yet' : `${totalLines} line${totalLines === 1 ? '' : 's'}`}${hint !== undefined ? ` · ${hint}` : ''} ──`, width)}
      </Text>
      {lines.length > 0 ? <Text>{lines.map((line) => fitWidth(stripControl(line.text), width) || ' ').join('\n')}</Text> : null}
    </>
  );
}
