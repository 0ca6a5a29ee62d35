import { Text } from 'ink';
import { formatBytes } from '../../src/run/format.js';

/*
 * The report as this panel reads it: the fields it needs of `src/comparison/report.ts`'s
 * report, which must stay assignable to them (startTui hands the panel what that
 * module's `readReport` returns, so the compiler checks it).
 */
export interface StreamDigest {
  readonly sha256: string;
  readonly bytes: number;
}

/** compare.py's outcomes: the Full tier has only bit-exact and wrong. */
export type Outcome = 'bit-exact' | 'message' | 'unsupported' | 'wrong';

export interface SampleResult {
  readonly name: string;
  readonly category: string;
  readonly pass: boolean;
  /** Absent in older reports: then bit-exact or wrong by `pass`. */
  readonly outcome?: Outcome;
  /** What differs (message) or is missing (unsupported). */
  readonly note?: string;
  readonly stdout: { readonly python: StreamDigest; readonly isolate: StreamDigest };
  readonly firstDifference?: {
    readonly stream: string;
    /** 1-based; absent when the runs differ in how they exited (`stream` is `exit`). */
    readonly line?: number;
    readonly python: string;
    readonly isolate: string;
  };
  /** Why the reference run itself is wrong (timed out, exited unlike the manifest says). */
  readonly problem?: string;
  /** A wasm runner with a native twin: whether this sample ran the same on both. */
  readonly native?: 'same' | 'differs';
}

export interface ComparisonReport {
  /** A Light tier runner's report names the runner. */
  readonly runner?: string;
  readonly outcomes?: Readonly<Record<Outcome, number>>;
  /** A wasm runner against the same interpreter built natively. */
  readonly native?: { readonly runner: string; readonly same: number; readonly differs: readonly string[] };
  readonly total: number;
  readonly passed: number;
  readonly samples: readonly SampleResult[];
}

const SHA_PREFIX = 12;

function outcomeOf(s: SampleResult): Outcome {
  return s.outcome ?? (s.pass ? 'bit-exact' : 'wrong');
}

/** How each outcome is marked: the accepted differences of the Light tier in yellow. */
const MARKS: Record<Outcome, { text: string; color: 'green' | 'yellow' | 'red' }> = {
  'bit-exact': { text: 'PASS', color: 'green' },
  message: { text: 'MSG ', color: 'yellow' },
  unsupported: { text: 'UNSP', color: 'yellow' },
  wrong: { text: 'FAIL', color: 'red' },
};

/** The header's count: `67/67 bit-exact`, or for a Light runner every outcome. */
export function summaryOf(report: ComparisonReport): { text: string; ok: boolean } {
  const wrong = report.samples.filter((s) => outcomeOf(s) === 'wrong').length;
  if (report.outcomes === undefined || report.runner === undefined) {
    const allPass = report.passed === report.total && wrong === 0;
    return { text: `${report.passed}/${report.total} bit-exact${allPass ? '' : `, ${report.total - report.passed} FAIL`}`, ok: allPass };
  }
  const o = report.outcomes;
  const native = report.native === undefined ? '' : `; same as native ${report.native.same}/${report.total}`;
  return {
    text: `${o['bit-exact']}/${report.total} bit-exact, ${o.message} message, ${o.unsupported} unsupported, ${o.wrong} wrong${native}`,
    ok: wrong === 0,
  };
}

/**
 * Per sample: PASS/FAIL, name, category, stdout size and hash prefix; for a FAIL
 * both sides' sizes and hashes and the first line where they part. With `maxRows`,
 * every FAIL is still listed and passes are cut first.
 */
export function Results({ report, title, maxRows }: { report: ComparisonReport; title?: string; maxRows?: number }) {
  const failures = report.samples.filter((s) => !s.pass);
  const passes = report.samples.filter((s) => s.pass);
  const summary = summaryOf(report);
  const passRoom = maxRows === undefined ? passes.length : Math.max(0, maxRows - failures.length);
  const shown = [...failures, ...passes.slice(0, passRoom)];
  const nameWidth = shown.reduce((w, s) => Math.max(w, s.name.length), 4);
  const categoryWidth = shown.reduce((w, s) => Math.max(w, s.category.length), 0);
  return (
    <>
      <Text wrap="truncate-end">
        <Text bold>{title ?? 'Sample comparison'}</Text>
        {'  '}
        <Text color={summary.ok ? 'green' : 'red'} bold>
          {summary.text}
        </Text>
      </Text>
      {shown.map((s) => (
        <SampleRow key={s.name} sample={s} nameWidth={nameWidth} categoryWidth={categoryWidth} />
      ))}
      {shown.length < report.samples.length ? (
        <Text dimColor>{`  … ${report.samples.length - shown.length} more passed`}</Text>
      ) : null}
    </>
  );
}

function SampleRow({ sample, nameWidth, categoryWidth }: { sample: SampleResult; nameWidth: number; categoryWidth: number }) {
  const { python, isolate } = sample.stdout;
  const sizes = python.bytes === isolate.bytes ? formatBytes(isolate.bytes) : `${formatBytes(python.bytes)} ≠ ${formatBytes(isolate.bytes)}`;
  const hashes =
    python.sha256 === isolate.sha256
      ? isolate.sha256.slice(0, SHA_PREFIX)
      : `${python.sha256.slice(0, SHA_PREFIX)} ≠ ${isolate.sha256.slice(0, SHA_PREFIX)}`;
  const diff = sample.firstDifference;
  const indent = ' '.repeat(8);
  const where = diff === undefined ? '' : diff.line !== undefined ? `${diff.stream} line ${diff.line}` : diff.stream;
  const outcome = outcomeOf(sample);
  const mark = MARKS[outcome];
  const accepted = outcome === 'message' || outcome === 'unsupported';
  return (
    <>
      <Text wrap="truncate-end">
        {'  '}
        <Text color={mark.color} bold={!sample.pass}>
          {mark.text}
        </Text>
        {`  ${sample.name.padEnd(nameWidth)}  `}
        <Text dimColor>{sample.category.padEnd(categoryWidth)}</Text>
        {`  ${sizes.padStart(9)}  `}
        <Text dimColor={sample.pass}>{hashes}</Text>
      </Text>
      {accepted && sample.note !== undefined ? (
        <Text wrap="truncate-end">
          {indent}
          <Text color="yellow">{sample.note}</Text>
        </Text>
      ) : null}
      {sample.native === 'differs' ? (
        <Text wrap="truncate-end">
          {indent}
          <Text color="red">not the same as the native build</Text>
        </Text>
      ) : null}
      {!sample.pass && sample.problem !== undefined ? (
        <Text wrap="truncate-end">
          {indent}
          <Text color="red">{sample.problem}</Text>
        </Text>
      ) : null}
      {!sample.pass && !accepted && diff !== undefined ? (
        <>
          <Text wrap="truncate-end">
            {`${indent}${where}  python : `}
            <Text color="green">{JSON.stringify(diff.python)}</Text>
          </Text>
          <Text wrap="truncate-end">
            {`${indent}${' '.repeat(where.length)}  isolate: `}
            <Text color="red">{JSON.stringify(diff.isolate)}</Text>
          </Text>
        </>
      ) : null}
    </>
  );
}
