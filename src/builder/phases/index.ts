/**
 * Phase recognizers read a build's own output, line by line, and say which phase it
 * is in (configure, make, profile 12/44, compile 37/58 crates, compare 30/55).
 * A derivation names its recognizer in its `phases` field.
 */
import cargo from './cargo.js';
import cpython from './cpython.js';
import cpythonTests from './cpython-tests.js';
import sampleComparison from './sample-comparison.js';
import type { PhaseUpdate } from './types.js';

const recognizers: Record<string, () => (line: string) => PhaseUpdate | undefined> = { cpython, cargo, 'sample-comparison': sampleComparison, 'cpython-tests': cpythonTests };

export function recognizerFor(name: string | undefined): ((line: string) => PhaseUpdate | undefined) | undefined {
  return name ? recognizers[name]?.() : undefined;
}
