import { Text } from 'ink';
import type { FailureModel } from '../view-model.js';

/** Failures in one line each: what, how it ended, in which phase, where the log is. */
export function FailureList({ failures, max }: { failures: readonly FailureModel[]; max: number }) {
  const shown = failures.slice(0, max);
  const nameWidth = shown.reduce((w, f) => Math.max(w, f.name.length), 0);
  return (
    <>
      <Text color="red" bold>
        {`✖ ${failures.length} failed`}
      </Text>
      {shown.map((f) => (
        // Cut in the middle when it must be: the name in front and the log file at the end stay.
        <Text key={f.drvPath} wrap="truncate-middle">
          {'  '}
          <Text bold>{f.name.padEnd(nameWidth)}</Text>
          {'  '}
          <Text color="red">{f.status}</Text>
          {f.phase !== undefined ? `  in ${f.phase}` : ''}
          {f.logPath !== undefined ? <Text dimColor>{`  ${f.logPath}`}</Text> : ''}
        </Text>
      ))}
      {failures.length > shown.length ? <Text dimColor>{`  … and ${failures.length - shown.length} more`}</Text> : null}
    </>
  );
}
