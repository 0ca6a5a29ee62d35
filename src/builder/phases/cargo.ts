/**
 * Phases of derivations/isolate/build.sh (`cargo build -v`), read from its log.
 *
 *   slime: 10 crates            printed by build.sh before cargo starts: the
 *                               packages `cargo tree` lists for this platform,
 *                               the isolate included, i.e. the `Compiling`
 *                               lines to expect
 *      Compiling libc v0.2.191   one per package: compile, done + 1
 *        Running `... rustc --crate-name isolate ... --crate-type bin ...`
 *                               the rustc run that links the binary: link
 *
 * Build scripts are bins too (`--crate-name build_script_build`), and are not
 * the link this phase is about. A package's `Compiling` line can come before
 * its final rustc run (when its build script compiles early), so the link is
 * recognised from the rustc command line, not from the last `Compiling`.
 */
import type { PhaseUpdate } from './types.js';

const CRATES = /^slime: (\d+) crates$/;
const COMPILING = /^\s*Compiling \S+ v\S+/;
const RUSTC_BIN = /^\s*Running `.*\brustc --crate-name (\S+) .*--crate-type bin\b/;

export default function cargo(): (line: string) => PhaseUpdate | undefined {
  let done = 0;
  let total: number | undefined;
  const compile = (): PhaseUpdate =>
    total === undefined ? { phase: 'compile', done } : { phase: 'compile', done: Math.min(done, total), total };
  return (line) => {
    const crates = CRATES.exec(line);
    if (crates) {
      total = Number(crates[1]);
      return compile();
    }
    if (COMPILING.test(line)) {
      done += 1;
      return compile();
    }
    const rustc = RUSTC_BIN.exec(line);
    if (rustc && !rustc[1].startsWith('build_script_')) return { phase: 'link' };
    return undefined;
  };
}
