import { Box, Text } from 'ink';
import { useSyncExternalStore } from 'react';
import { RealizeView } from '../components/RealizeView.js';
import { fitWidthMarked } from '../../src/run/format.js';
import { treeRows, type TuiState } from '../../src/run/state.js';
import { defaultFocus, moveFocus } from '../view-model.js';
import { runHelp, runKey } from './app-state.js';
import { HelpLine } from './HelpLine.js';
import { keystrokes, useKeys } from './keys.js';
import type { Run } from './runs.js';

/** The derivation the view is on: the one picked, else the one the realize view would show. */
export function effectiveFocus(state: TuiState, picked: string | undefined): string | undefined {
  if (picked !== undefined && state.derivations[picked] !== undefined) return picked;
  return defaultFocus(state) ?? state.order.at(-1);
}

export interface RunScreenProps {
  run: Run;
  focus: string | undefined;
  width: number;
  height: number;
  status?: string;
  onFocus: (drvPath: string | undefined) => void;
  onOpenLog: (drvPath: string, name: string) => void;
  onBack: () => void;
  onQuit: () => void;
}

/** The live tree of the app's realize, drawn by the same view `slime realize` uses. */
export function RunScreen({ run, focus, width, height, status, onFocus, onOpenLog, onBack, onQuit }: RunScreenProps) {
  const { state, now } = useSyncExternalStore(run.store.subscribe, run.store.getSnapshot);
  const current = effectiveFocus(state, focus);
  useKeys((chunk, chunkKey) => {
    // Keys that came in one chunk move the focus from where the previous one left it.
    let at = current;
    for (const [input, key] of keystrokes(chunk, chunkKey)) {
      const command = runKey(input, key);
      if (command === undefined) continue;
      if (command.type === 'focus') {
        at = moveFocus(treeRows(state).map((r) => r.drvPath), at, command.by);
        onFocus(at);
      } else if (command.type === 'quit') return onQuit();
      // Both leave this screen: the rest of the chunk was typed for it, not for the next one.
      else if (command.type === 'back') return onBack();
      else if (at !== undefined) return onOpenLog(at, state.derivations[at]!.name);
    }
  });
  const title = run.kind === 'compare-samples' ? `compare samples again: ${run.target}` : `realize ${run.target}`;
  const viewHeight = Math.max(3, height - 3);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>{fitWidthMarked(title, width)}</Text>
        {run.active && state.finished === undefined ? <Text color="yellow">{'  ● running'}</Text> : null}
        {run.outcome?.interrupted ? <Text color="red">{'  stopped'}</Text> : null}
      </Text>
      {run.error !== undefined ? <Text color="red">{fitWidthMarked(`error: ${run.error}`, width)}</Text> : null}
      <RealizeView state={state} now={now} width={width} height={viewHeight} focus={current} />
      <Box flexGrow={1} />
      <HelpLine keys={runHelp(run.active)} status={status} width={width} />
    </Box>
  );
}
