import { Text } from 'ink';

export interface BenchRow {
  readonly workload: string;
  readonly interpreter: string;
  readonly medianMs: number;
  /** Median time over the reference interpreter's median on the same workload: 1 is parity, below is faster. */
  readonly ratio: number;
}

const BAR_WIDTH = 24;

function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;
}

/**
 * Bars scale to the largest ratio on screen. Up to parity with the reference a bar is
 * solid; what a slower interpreter spends beyond it is shaded (`▒`), and a faster
 * one's bar stops short of a `│` marking parity, so colour is not needed to read it.
 */
export function ratioBar(ratio: number, maxRatio: number, width = BAR_WIDTH): string {
  const scale = Math.max(maxRatio, 1);
  const filled = Math.max(1, Math.round((ratio / scale) * width));
  const parity = Math.max(1, Math.round(width / scale));
  let bar = '';
  for (let i = 0; i < Math.max(filled, parity); i++) {
    if (i < Math.min(filled, parity)) bar += '█';
    else if (i < filled) bar += '▒';
    else bar += i === parity - 1 ? '│' : ' ';
  }
  return bar;
}

/** `reference` is the interpreter the ratios are against, as `slime bench` labels it; its rows are dimmed. */
export function BenchPanel({ measuredAt, reference, rows }: { measuredAt: string; reference: string; rows: readonly BenchRow[] }) {
  const workloadWidth = rows.reduce((w, r) => Math.max(w, r.workload.length), 8);
  const interpreterWidth = rows.reduce((w, r) => Math.max(w, r.interpreter.length), 11);
  const maxRatio = rows.reduce((m, r) => Math.max(m, r.ratio), 0);
  return (
    <>
      <Text wrap="truncate-end">
        <Text bold>{`Benchmarks vs ${reference}`}</Text>
        <Text dimColor>{`  measured ${measuredAt}`}</Text>
      </Text>
      <Text dimColor wrap="truncate-end">
        {`  ${'workload'.padEnd(workloadWidth)}  ${'interpreter'.padEnd(interpreterWidth)}  ${'median'.padStart(9)}  ${'ratio'.padStart(6)}`}
      </Text>
      {rows.map((r) => (
        <Text key={`${r.workload}/${r.interpreter}`} wrap="truncate-end" dimColor={r.interpreter === reference}>
          {`  ${r.workload.padEnd(workloadWidth)}  ${r.interpreter.padEnd(interpreterWidth)}  ${formatMs(r.medianMs).padStart(9)}  ${`${r.ratio.toFixed(2)}×`.padStart(6)}  ${ratioBar(r.ratio, maxRatio)}`}
        </Text>
      ))}
    </>
  );
}
