/**
 * The results panel with Light tier reports: one panel per runner, titled by the
 * runner, every outcome counted in the header, accepted differences (message,
 * unsupported) marked in yellow with their note, wrong samples as FAIL with the first
 * difference; and the target list's SAMPLES column over all of a target's reports.
 */
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetDetail } from '../tui/app/TargetDetail.js';
import { TargetList } from '../tui/app/TargetList.js';
import type { TargetInfo } from '../tui/app/backend.js';
import type { SampleResult, ComparisonReport } from '../tui/components/Results.js';

afterEach(cleanup);

const digest = { sha256: 'a'.repeat(64), bytes: 10 };
function sample(name: string, outcome: SampleResult['outcome'], note?: string): SampleResult {
  return {
    name,
    category: 'errors',
    pass: outcome === 'bit-exact',
    outcome,
    ...(note ? { note } : {}),
    stdout: { python: digest, isolate: outcome === 'bit-exact' ? digest : { sha256: 'b'.repeat(64), bytes: 9 } },
    ...(outcome === 'bit-exact' ? {} : { firstDifference: { stream: 'stdout', line: 1, python: 'limit 1000', isolate: 'limit 600' } }),
  };
}

function lightReport(runner: string, wrong: number): ComparisonReport {
  const samples = [
    sample('01_hello', 'bit-exact'),
    sample('06_ctypes_libc', 'unsupported', "needs module _ctypes: ModuleNotFoundError: No module named '_ctypes'"),
    ...(wrong ? [sample('13_recursion_depth', 'wrong', 'stdout differs at line 1')] : []),
  ];
  return {
    runner,
    total: samples.length,
    passed: 1,
    outcomes: { 'bit-exact': 1, message: 0, unsupported: 1, wrong },
    samples,
  };
}

const target: TargetInfo = {
  name: 'light-wasm32',
  description: 'Light tier',
  state: 'realized',
  valid: 9,
  total: 9,
  comparesSamples: true,
  report: lightReport('CPython-wasi, wasmtime (AOT)', 1),
  moreReports: [lightReport("CPython-wasi, Node's node:wasi", 0)],
};

describe('the results panel for the Light tier', () => {
  it('shows one panel per runner with every outcome, the notes of accepted differences, and the wrong sample as FAIL', () => {
    const { lastFrame } = render(<TargetDetail target={target} width={140} height={40} />);
    const frame = lastFrame()!;
    expect(frame).toContain('Light tier: CPython-wasi, wasmtime (AOT)  1/3 bit-exact, 0 message, 1 unsupported, 1 wrong');
    expect(frame).toContain("Light tier: CPython-wasi, Node's node:wasi  1/2 bit-exact, 0 message, 1 unsupported, 0 wrong");
    expect(frame).toMatch(/UNSP  06_ctypes_libc/);
    expect(frame).toContain("needs module _ctypes: ModuleNotFoundError: No module named '_ctypes'");
    expect(frame).toMatch(/FAIL  13_recursion_depth/);
    expect(frame).toContain('stdout line 1  python : "limit 1000"');
  });

  it("shows a wasm runner's agreement with its native twin, and the samples where they part", () => {
    const wasm = lightReport('RustPython-wasm32, wasmtime (AOT)', 0);
    const twinned: ComparisonReport = {
      ...wasm,
      native: { runner: 'RustPython, native', same: 1, differs: ['06_ctypes_libc'] },
      samples: wasm.samples.map((s) => ({ ...s, native: s.name === '06_ctypes_libc' ? ('differs' as const) : ('same' as const) })),
    };
    const { lastFrame } = render(<TargetDetail target={{ ...target, name: 'light-rustpython', report: twinned, moreReports: [] }} width={140} height={40} />);
    const frame = lastFrame()!;
    expect(frame).toContain('RustPython-wasm32, wasmtime (AOT)  1/2 bit-exact, 0 message, 1 unsupported, 0 wrong; same as native 1/2');
    expect(frame).toContain('not the same as the native build');
  });

  it('sums up every runner in the target list, red only for a wrong sample', () => {
    const { lastFrame } = render(<TargetList targets={[target]} selected={0} runMarks={{}} width={120} />);
    expect(lastFrame()).toContain('1/3 1/2 bit-exact');
  });
});
