import { Box, Text } from 'ink';
import { fitWidth } from '../../src/run/format.js';
import { targetsHelp, targetsKey, type TargetsCommand, type TargetsContext } from './app-state.js';
import type { TargetInfo } from './backend.js';
import { HelpLine } from './HelpLine.js';
import { keystrokes, useKeys } from './keys.js';
import { TargetDetail } from './TargetDetail.js';
import { TargetList, type RunMark } from './TargetList.js';

export interface TargetsScreenProps {
  title: string;
  targets: readonly TargetInfo[] | undefined;
  loadError?: string;
  selected: number;
  runMarks: Readonly<Record<string, RunMark>>;
  context: TargetsContext;
  status?: string;
  width: number;
  height: number;
  onCommand: (command: TargetsCommand) => void;
}

/** The targets with their state, and below them the selected one's sample comparison and benchmark. */
export function TargetsScreen(props: TargetsScreenProps) {
  const { title, targets, loadError, selected, runMarks, context, status, width, height, onCommand } = props;
  useKeys((chunk, chunkKey) => {
    for (const [input, key] of keystrokes(chunk, chunkKey)) {
      const command = targetsKey(input, key, context);
      if (command === undefined) continue;
      onCommand(command);
      // Anything but a move leaves this screen; the rest of the chunk was not meant for the next one.
      if (command.type !== 'select') return;
    }
  });
  const target = targets?.[selected];
  // Title, the list's header and rows, a blank line, and the help line.
  const detailHeight = height - 1 - 1 - (targets?.length ?? 1) - 1 - 1;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        {fitWidth(title, width)}
      </Text>
      {loadError !== undefined ? (
        <Text color="red">{fitWidth(`error: ${loadError}`, width)}</Text>
      ) : targets === undefined ? (
        <Text dimColor>reading the targets…</Text>
      ) : (
        <TargetList targets={targets} selected={selected} runMarks={runMarks} width={width} />
      )}
      <Text> </Text>
      {target !== undefined && detailHeight >= 3 ? <TargetDetail target={target} width={width} height={detailHeight} /> : null}
      <Box flexGrow={1} />
      <HelpLine keys={targetsHelp(context)} status={status} width={width} />
    </Box>
  );
}
