import { Box, Text } from 'ink';
import { memo } from 'react';
import { fitWidthMarked } from '../../src/run/format.js';
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

interface DerivationRowProps {
  row: RowModel;
  focused: boolean;
  nameWidth: number;
  width: number;
}

/**
 * One derivation: focus mark, state symbol, tree glyphs, name, elapsed time, what
 * it is doing. The glyphs and the ASCII rest are separate texts because Ink
 * measures any text holding a non-ASCII character grapheme by grapheme, every frame.
 */
function DerivationRowView(props: DerivationRowProps) {
  const { row, focused, nameWidth, width } = props;
  const finishedOk = row.status === 'built' || row.status === 'substituted' || row.status === 'cached';
  const quiet = finishedOk || row.status === 'skipped' || row.status === 'cancelled' || row.status === 'not-needed' || row.status === 'planned';
  const name = row.name.padEnd(Math.max(0, nameWidth - row.prefix.length));
  const elapsed = (row.elapsed ?? '').padStart(6);
  const detailWidth = width - 3 - row.prefix.length - name.length - 1 - elapsed.length - 2;
  return (
    <Box>
      <Text>
        <Text color="yellow">{focused ? '›' : ' '}</Text>
        <StatusSymbol status={row.status} /> <Text dimColor>{row.prefix}</Text>
      </Text>
      <Text wrap="truncate-end">
        <Text bold={focused} dimColor={quiet && !focused}>
          {name}
        </Text>{' '}
        <Text dimColor>{elapsed}</Text>
        {row.detail !== undefined && detailWidth > 0 ? (
          <Text color={row.status === 'failed' ? 'red' : undefined} dimColor={quiet}>
            {`  ${fitWidthMarked(row.detail, detailWidth)}`}
          </Text>
        ) : null}
      </Text>
    </Box>
  );
}

const sameRow = (a: RowModel, b: RowModel) =>
  a.drvPath === b.drvPath &&
  a.prefix === b.prefix &&
  a.name === b.name &&
  a.status === b.status &&
  a.elapsed === b.elapsed &&
  a.detail === b.detail;

/** Row models are rebuilt every frame; most rows have not changed and need not re-render. */
export const DerivationRow = memo(
  DerivationRowView,
  (a, b) => a.focused === b.focused && a.nameWidth === b.nameWidth && a.width === b.width && sameRow(a.row, b.row),
);

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
function nameColumnWidth(rows: readonly RowModel[], screenWidth: number): number {
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
        <DerivationRow key={row.drvPath} row={row} focused={row.drvPath === props.focused} nameWidth={nameWidth} width={props.width} />
      ))}
      {props.hidden !== undefined ? <HiddenRowsLine hidden={props.hidden} /> : null}
    </>
  );
}
