import { Box, Text } from 'ink';
import { lastLines } from '../../src/run/log-tail.js';
import { counts, eta, wallMs, type TuiState } from '../../src/run/state.js';
import { defaultFocus, failureModels, MAX_LOG_LINES, planLayout, rowModels } from '../view-model.js';
import { DerivationTree } from './DerivationTree.js';
import { FailureList } from './FailureList.js';
import { LogPane } from './LogPane.js';
import { OverallLine } from './OverallLine.js';
import { Results, type ComparisonReport } from './Results.js';
import { Summary } from './Summary.js';

export interface RealizeViewProps {
  state: TuiState;
  now: number;
  width: number;
  /** Lines the frame may use; it keeps one of them free. */
  height: number;
  /** Whose log to show; by default the build that started last, or the first failure. */
  focus?: string;
  /** Key help shown in the log pane's header. */
  hint?: string;
}

/**
 * One live frame of a run, shorter than `height`: the tree, the failures, the
 * focused log and the overall line; once the run has finished, a line per
 * sample comparison and the summary in its place.
 */
export function RealizeView({ state, now, width, height, focus, hint }: RealizeViewProps) {
  const verified = state.finished !== undefined ? state.verifiedOrder : [];
  return (
    <Box flexDirection="column" width={width}>
      <RunBody state={state} now={now} width={width} height={height - verified.length} focus={focus} hint={hint} />
      {verified.map((drvPath) => (
        <ComparisonLine key={drvPath} state={state} drvPath={drvPath} />
      ))}
      {state.finished !== undefined ? (
        <Summary summary={state.finished} />
      ) : (
        <OverallLine counts={counts(state)} eta={eta(state, now)} wallMs={wallMs(state, now)} width={width} />
      )}
    </Box>
  );
}

export interface RunRecordProps {
  state: TuiState;
  now: number;
  width: number;
  focus?: string;
  /** Loaded sample comparison reports by `.drv` path. */
  reports?: Readonly<Record<string, ComparisonReport>>;
}

/**
 * A finished run as it stays in the terminal's scrollback, however tall: every
 * row of the tree, the failures, the focused log and each sample comparison's results.
 * The summary is left to the caller, to come last.
 */
export function RunRecord({ state, now, width, focus, reports = {} }: RunRecordProps) {
  return (
    <Box flexDirection="column" width={width}>
      <RunBody state={state} now={now} width={width} height={Number.POSITIVE_INFINITY} focus={focus} />
      {state.verifiedOrder.map((drvPath) => {
        const report = reports[drvPath];
        return report !== undefined ? (
          <Results key={drvPath} report={report} title={`Sample comparison of ${state.derivations[drvPath]!.name}`} />
        ) : (
          <ComparisonLine key={drvPath} state={state} drvPath={drvPath} />
        );
      })}
    </Box>
  );
}

/** The tree, the failures and the focused log, in `height` lines less the two planLayout keeps. */
function RunBody({ state, now, width, height, focus, hint }: RealizeViewProps) {
  const rows = rowModels(state, now);
  const failures = failureModels(state);
  const focused = focus !== undefined && state.derivations[focus] !== undefined ? focus : defaultFocus(state);
  const focusedDrv = focused !== undefined ? state.derivations[focused] : undefined;
  // After a successful run the logs have nothing more to say.
  const showLog = focusedDrv !== undefined && (state.finished === undefined || failures.length > 0);
  // A pane with nothing to show yet still has its header, so it takes one line.
  const logWanted = showLog ? Math.max(1, Math.min(focusedDrv.log.length, MAX_LOG_LINES)) : 0;
  const layout = planLayout({ height, rows, failures: failures.length, log: logWanted });
  return (
    <>
      <DerivationTree rows={layout.rows} hidden={layout.hidden} focused={focused} width={width} />
      {failures.length > 0 ? <FailureList failures={failures} max={layout.failureRows} /> : null}
      {showLog && layout.logLines > 0 ? (
        <LogPane
          name={focusedDrv.name}
          lines={lastLines(focusedDrv.log, layout.logLines)}
          totalLines={focusedDrv.log.total}
          width={width}
          hint={hint}
        />
      ) : null}
    </>
  );
}

/** A sample comparison's counts, for a frame with no room for its results or a report that could not be read. */
function ComparisonLine({ state, drvPath }: { state: TuiState; drvPath: string }) {
  const d = state.derivations[drvPath]!;
  const { passed, total, reportPath } = d.verified!;
  return (
    <Text wrap="truncate-end" color={passed === total ? 'green' : 'red'}>
      {`Sample comparison of ${d.name}: ${passed}/${total} bit-exact (report: ${reportPath})`}
    </Text>
  );
}
