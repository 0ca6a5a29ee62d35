import { Box, Text } from 'ink';
import { BenchPanel } from '../components/BenchPanel.js';
import { Results } from '../components/Results.js';
import { fitWidth, fitWidthMarked } from '../../src/run/format.js';
import type { TargetInfo } from './backend.js';

/**
 * The selected target's latest verification and benchmark, in `height` lines:
 * the benchmark table keeps its rows and the verification gives up passing samples
 * first (Results always lists every failure).
 */
export function TargetDetail({ target, width, height }: { target: TargetInfo; width: number; height: number }) {
  const benchLines = target.bench !== undefined ? 2 + target.bench.rows.length : target.verifies ? 1 : 0;
  const failures = target.report?.samples.filter((s) => !s.pass).length ?? 0;
  // Title and "… more passed", plus the two lines of each failure's first difference.
  const sampleRows = Math.max(1, height - 1 - benchLines - 2 - 2 * failures);
  return (
    <Box flexDirection="column" width={width}>
      <Text dimColor wrap="truncate-end">
        {fitWidth(`── ${target.name}: ${target.description} ──`, width)}
      </Text>
      {target.report !== undefined ? (
        <Results report={target.report} title={`Verification of ${target.name}`} maxRows={sampleRows} />
      ) : target.reportError !== undefined ? (
        <Text color="red">{fitWidthMarked(target.reportError, width)}</Text>
      ) : target.verifies ? (
        <Text dimColor>Not verified yet: Enter realizes the target, verification included.</Text>
      ) : (
        <Text dimColor>This target has no verification step.</Text>
      )}
      {target.bench !== undefined ? (
        <BenchPanel measuredAt={target.bench.measuredAt} reference={target.bench.reference} rows={target.bench.rows} />
      ) : target.verifies ? (
        <Text dimColor>{fitWidth(`No benchmark yet: \`slime bench ${target.name}\` measures one.`, width)}</Text>
      ) : null}
    </Box>
  );
}
