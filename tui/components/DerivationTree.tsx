import { Text } from 'ink';
import { STATUS_STYLE } from '../theme.js';
import type { HiddenRows, RowModel } from '../view-model.js';

export function StatusSymbol({ status }: { status: RowModel['status'] }) {
  const style = STATUS_STYLE[status];
  return (
    <Text color={style.color} dimColor={style.color === undefined}>
      {style.symbol}
    </Text>
  );
}

/** One derivation: focus mark, state symbol, tree glyphs, name, elapsed time, what it is doing. */
export function DerivationRow({ row, focused, nameWidth }: { row: RowModel; focused: boolean; nameWidth: number }) {
  const finishedOk = row.status === 'built' || row.status === 'substituted' || row.status === 'cached';
  const quiet = finishedOk || row.status === 'skipped' || row.status === 'planned';
  return (
    <Text wrap="truncate-end">
      <Text color="yellow">{focused ? '›' : ' '}</Text>
      <StatusSymbol status={row.status} /> <Text dimColor>{row.prefix}</Text>
      <Text bold={focused} dimColor={quiet && !focused}>
        {row.name.padEnd(Math.max(0, nameWidth - row.prefix.length))}
      </Text>{' '}
      <Text dimColor>{(row.elapsed ?? '').padStart(6)}</Text>
      {row.detail !== undefined ? '  ' : ''}
      <Text color={row.status === 'failed' ? 'red' : undefined} dimColor={quiet}>
        {row.detail ?? ''}
      </Text>
    </Text>
  );
}

export function HiddenRowsLine({ hidden }: { hidden: HiddenRows }) {
  const parts = [
    hidden.active > 0 ? `${hidden.active} running` : '',
    hidden.failed > 0 ? `${hidden.failed} failed` : '',
    hidden.queued > 0 ? `${hidden.queued} queued` : '',
    hidden.skipped > 0 ? `${hidden.skipped} skipped` : '',
    hidden.done > 0 ? `${hidden.done} done` : '',
  ].filter((p) => p !== '');
  return (
    <Text dimColor wrap="truncate-end">
      {'   … '}
      {parts.join(', ')} not shown
    </Text>
  );
}

/** Names line up in a column, but a deep tree must not push the details off a narrow screen. */
export function nameColumnWidth(rows: readonly RowModel[], screenWidth: number): number {
  const widest = rows.reduce((w, r) => Math.max(w, r.prefix.length + r.name.length), 0);
  return Math.max(8, Math.min(widest, 48, screenWidth - 30));
}

export function DerivationTree(props: {
  rows: readonly RowModel[];
  hidden?: HiddenRows;
  focused?: string;
  width: number;
}) {
  const nameWidth = nameColumnWidth(props.rows, props.width);
  return (
    <>
      {props.rows.map((row) => (
        <DerivationRow key={row.drvPath} row={row} focused={row.drvPath === props.focused} nameWidth={nameWidth} />
      ))}
      {props.hidden !== undefined ? <HiddenRowsLine hidden={props.hidden} /> : null}
    </>
  );
}
