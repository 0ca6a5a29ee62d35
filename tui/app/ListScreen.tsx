import type { Key } from 'ink';
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { fitWidthMarked } from '../../src/run/format.js';
import { HelpLine } from './HelpLine.js';
import { keystrokes, useKeys } from './keys.js';

export interface ListScreenProps<C extends { type: string }> {
  title: string;
  /** Why the list could not be read; shown in its place. */
  loadError?: string;
  /** Shown in the list's place until it is read (`list` undefined). */
  loading: string;
  /** The list, once read. */
  list: ReactNode | undefined;
  /** The picked item's detail, below the list and a blank line. */
  detail: ReactNode;
  /** The command a key stands for on this screen; a `select` moves, anything else leaves it. */
  commandOf: (input: string, key: Key) => C | undefined;
  onCommand: (command: C) => void;
  help: string;
  status?: string;
  width: number;
  height: number;
}

/**
 * The frame the targets and the recent runs share: the title, the list (or its load
 * error, or a note while it loads), a blank line, the picked item's detail, and the
 * help line on the bottom line. Keys are read one by one from a typed chunk; a command
 * that leaves the screen drops the rest of the chunk, which was not typed for the next.
 */
export function ListScreen<C extends { type: string }>(props: ListScreenProps<C>) {
  const { title, loadError, loading, list, detail, commandOf, onCommand, help, status, width, height } = props;
  useKeys((chunk, chunkKey) => {
    for (const [input, key] of keystrokes(chunk, chunkKey)) {
      const command = commandOf(input, key);
      if (command === undefined) continue;
      onCommand(command);
      if (command.type !== 'select') return;
    }
  });
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        {fitWidthMarked(title, width)}
      </Text>
      {loadError !== undefined ? (
        <Text color="red">{fitWidthMarked(`error: ${loadError}`, width)}</Text>
      ) : list === undefined ? (
        <Text dimColor>{loading}</Text>
      ) : (
        list
      )}
      <Text> </Text>
      {detail}
      <Box flexGrow={1} />
      <HelpLine keys={help} status={status} width={width} />
    </Box>
  );
}
