import { Box, Text } from 'ink';
import { BenchPanel } from '../components/BenchPanel.js';
import { Results } from '../components/Results.js';
import { fitWidthMarked } from '../../src/run/format.js';
import type { TargetInfo } from './backend.js';

/**
 * The selected target's latest sample comparison and benchmark, in `height` lines:
 * the benchmark table keeps its rows and the comparison gives up passing samples
 * first (Results always lists every failure).
 */
export function TargetDetail({ target, width, height }: { target: TargetInfo; width: number; height: number }) {
  const benchLines = target.bench !== undefined ? 2 + target.bench.rows.length : target.comparesSamples ? 1 : 0;
  const reports = target.report !== undefined ? [target.report, ...(target.moreReports ?? [])] : [];
  const failures = reports.reduce((n, r) => n + r.samples.filter((s) => !s.pass).length, 0);
  // Per report its title and "… more passed", plus the two lines of each failure's first difference.
  const checkLines = target.checked !== undefined ? 1 : 0;
  const sampleRows = Math.max(1, Math.floor((height - 1 - checkLines - benchLines - 2 * Math.max(1, reports.length) - 2 * failures) / Math.max(1, reports.length)));
  return (
    <Box flexDirection="column" width={width}>
      <Text dimColor wrap="truncate-end">
        {fitWidthMarked(`── ${target.name}: ${target.description} ──`, width)}
      </Text>
      {target.checked !== undefined ? (
        <Text color={target.checked.verdict === 'equal' ? 'green' : 'red'} wrap="truncate-end">
          {fitWidthMarked(`Reproducible? ${target.checked.summary}`, width)}
        </Text>
      ) : null}
      {target.report !== undefined ? (
        reports.map((r, i) => (
          <Results key={i} report={r} title={r.runner !== undefined ? `Light tier: ${r.runner}` : `Sample comparison of ${target.name}`} maxRows={sampleRows} />
        ))
      ) : target.reportError !== undefined ? (
        <Text color="red">{fitWidthMarked(target.reportError, width)}</Text>
      ) : target.comparesSamples ? (
        <Text dimColor>Samples not compared yet: Enter realizes the target, the comparison included.</Text>
      ) : (
        <Text dimColor>This target compares no samples.</Text>
      )}
      {target.bench !== undefined ? (
        <BenchPanel measuredAt={target.bench.measuredAt} reference={target.bench.reference} rows={target.bench.rows} />
      ) : target.comparesSamples ? (
        <Text dimColor>{fitWidthMarked(`No benchmark yet: \`slime bench ${target.name}\` measures one.`, width)}</Text>
      ) : null}
    </Box>
  );
}
