import { Text } from 'ink';
import { fitWidth } from '../../src/run/format.js';

/** The bottom line of every screen: the keys that work there, after any message for the user. */
export function HelpLine({ keys, status, failed = false, width }: { keys: string; status?: string; failed?: boolean; width: number }) {
  const prefix = status !== undefined ? `${status}   ` : '';
  return (
    <Text wrap="truncate-end">
      {status !== undefined ? <Text color={failed ? 'red' : 'yellow'}>{fitWidth(prefix, width)}</Text> : null}
      <Text dimColor>{fitWidth(keys, Math.max(0, width - prefix.length))}</Text>
    </Text>
  );
}
