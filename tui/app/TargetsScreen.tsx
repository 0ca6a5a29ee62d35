import { targetsHelp, targetsKey, type TargetsCommand, type TargetsContext } from './app-state.js';
import type { TargetInfo } from './backend.js';
import { ListScreen } from './ListScreen.js';
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
  const target = targets?.[selected];
  // Title, the list's header and rows, a blank line, and the help line.
  const detailHeight = height - 1 - 1 - (targets?.length ?? 1) - 1 - 1;
  return (
    <ListScreen
      title={title}
      loadError={loadError}
      loading="reading the targets…"
      list={targets && <TargetList targets={targets} selected={selected} runMarks={runMarks} width={width} />}
      detail={target !== undefined && detailHeight >= 3 ? <TargetDetail target={target} width={width} height={detailHeight} /> : null}
      commandOf={(input, key) => targetsKey(input, key, context)}
      onCommand={onCommand}
      help={targetsHelp(context)}
      status={status}
      width={width}
      height={height}
    />
  );
}
