import { Text } from 'ink';
import { formatBytes } from '../../src/run/format.js';

/*
 * The report as this panel reads it: the fields it needs of `src/verify/report.ts`'s
 * report, which must stay assignable to them (startTui hands the panel what that
 * module's `readReport` returns, so the compiler checks it).
 */
export interface StreamDigest {
  readonly sha256: string;
  readonly bytes: number;
}

export interface SampleResult {
  readonly name: string;
  readonly category: string;
  readonly pass: boolean;
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
}

export interface VerifyReport {
  readonly total: number;
  readonly passed: number;
  readonly samples: readonly SampleResult[];
}

const SHA_PREFIX = 12;

/**
 * Per sample: PASS/FAIL, name, category, stdout size and hash prefix; for a FAIL
 * both sides' sizes and hashes and the first line where they part. With `maxRows`,
 * every FAIL is still listed and passes are cut first.
 */
export function Results({ report, title, maxRows }: { report: VerifyReport; title?: string; maxRows?: number }) {
  const failures = report.samples.filter((s) => !s.pass);
  const passes = report.samples.filter((s) => s.pass);
  const passRoom = maxRows === undefined ? passes.length : Math.max(0, maxRows - failures.length);
  const shown = [...failures, ...passes.slice(0, passRoom)];
  const nameWidth = shown.reduce((w, s) => Math.max(w, s.name.length), 4);
  const categoryWidth = shown.reduce((w, s) => Math.max(w, s.category.length), 0);
  const allPass = report.passed === report.total && failures.length === 0;
  return (
    <>
      <Text wrap="truncate-end">
        <Text bold>{title ?? 'Verification'}</Text>
        {'  '}
        <Text color={allPass ? 'green' : 'red'} bold>
          {`${report.passed}/${report.total} bit-exact`}
          {allPass ? '' : `, ${report.total - report.passed} FAIL`}
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
  return (
    <>
      <Text wrap="truncate-end">
        {'  '}
        <Text color={sample.pass ? 'green' : 'red'} bold={!sample.pass}>
          {sample.pass ? 'PASS' : 'FAIL'}
        </Text>
        {`  ${sample.name.padEnd(nameWidth)}  `}
        <Text dimColor>{sample.category.padEnd(categoryWidth)}</Text>
        {`  ${sizes.padStart(9)}  `}
        <Text dimColor={sample.pass}>{hashes}</Text>
      </Text>
      {!sample.pass && sample.problem !== undefined ? (
        <Text wrap="truncate-end">
          {indent}
          <Text color="red">{sample.problem}</Text>
        </Text>
      ) : null}
      {!sample.pass && diff !== undefined ? (
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
