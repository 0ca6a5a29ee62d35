/**
 * What a phase recognizer says about one line of a build's output: the build is
 * now in `phase`, and for phases that count work, `done` of `total` units are
 * finished (tests of the PGO profile run, crates compiled). A recognizer returns
 * an update only for lines that tell something; the builder turns updates into
 * `phase` events.
 */
export interface PhaseUpdate {
  phase: string;
  done?: number;
  total?: number;
  /** Of the `done` units, how many succeeded (samples that were bit-exact). */
  passed?: number;
}

/** Makes a fresh, stateful recognizer for one build's output. */
export type PhaseRecognizerFactory = () => (line: string) => PhaseUpdate | undefined;
