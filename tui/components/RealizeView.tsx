import { Box, Text } from 'ink';
import { lastLines } from '../log-tail.js';
import { counts, eta, wallMs, type TuiState } from '../state.js';
import { defaultFocus, failureModels, MAX_LOG_LINES, planLayout, rowModels } from '../view-model.js';
import { DerivationTree } from './DerivationTree.js';
import { FailureList } from './FailureList.js';
import { LogPane } from './LogPane.js';
import { OverallLine } from './OverallLine.js';
import { Results, type VerifyReport } from './Results.js';
import { Summary } from './Summary.js';

export interface RealizeViewProps {
  state: TuiState;
  now: number;
  width: number;
  /** Lines the live frame may use; the results panel at the end is not counted. */
  height: number;
  /** Whose log to show; by default the build that started last, or the first failure. */
  focus?: string;
  /** Loaded verification reports by `.drv` path. */
  reports?: Readonly<Record<string, VerifyReport>>;
  /** Key help shown in the log pane's header. */
  hint?: string;
}

/**
 * One frame of `slime realize`: the tree, the failures, the focused log and the
 * overall line; once the run has finished, the summary and verification results.
 */
export function RealizeView({ state, now, width, height, focus, reports = {}, hint }: RealizeViewProps) {
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
    <Box flexDirection="column" width={width}>
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
      {state.finished !== undefined ? (
        <Summary summary={state.finished} />
      ) : (
        <OverallLine counts={counts(state)} eta={eta(state, now)} wallMs={wallMs(state, now)} width={width} />
      )}
      {state.finished !== undefined
        ? state.verifiedOrder.map((drvPath) => {
            const d = state.derivations[drvPath]!;
            const report = reports[drvPath];
            return report !== undefined ? (
              <Results key={drvPath} report={report} title={`Verification of ${d.name}`} />
            ) : (
              <Text key={drvPath} wrap="truncate-end" color={d.verified!.passed === d.verified!.total ? 'green' : 'red'}>
                {`Verification of ${d.name}: ${d.verified!.passed}/${d.verified!.total} bit-exact (report: ${d.verified!.reportPath})`}
              </Text>
            );
          })
        : null}
    </Box>
  );
}
