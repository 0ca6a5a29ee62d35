/**
 * How long the CLI takes to answer when there is nothing to do: `slime --help`,
 * `slime targets` of the project (its evaluation cached, then not), and the no-op
 * `slime realize full-x86_64` when a store holds it realized (SLIME_BENCH_STORE, else
 * slime's own default store: SLIME_STORE, else store/ in the project). The reference is
 * Node's own start (`node -e ''`), which no slime command can beat.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchStoreDir, measure, measureNodeStart, removeTree, sideBySide, slimeArgs, tempDir, type Benchmark, type Figure, type SideBySide } from './lib.js';

const NODE = measureNodeStart;

/** A figure of `side`: slime's run against Node's bare start, measured in the same rounds. */
function againstNodeStart(name: string, side: SideBySide, rest: Pick<Figure, 'target' | 'note'> = {}): Figure {
  return {
    name,
    unit: 'ms',
    slime: side.a.ms,
    slimeRssMb: side.a.rssMb,
    slimeCpuMs: side.a.cpuMs,
    reference: { label: "node -e ''", value: side.b.ms, rssMb: side.b.rssMb, cpuMs: side.b.cpuMs },
    ...rest,
  };
}

export const cliStartBenchmark: Benchmark = {
  name: 'cli',
  description: "slime --help, slime targets and a no-op realize of full-x86_64, vs Node's bare start",
  async run({ quick, log }) {
    const rounds = quick ? 3 : 9;
    const figures: Figure[] = [];
    const work = tempDir('slime-bench-cli-');
    try {
      const store = path.join(work, 'store');
      // An existing (empty) store, as a user's is after the first realize: slime keeps no
      // evaluation cache for a store that is not there (reading a module creates no store).
      fs.mkdirSync(path.join(store, '.slime'), { recursive: true });
      // The user's evaluation cache of its own, so the cold figure can empty it as well.
      const userEvalCache = path.join(work, 'user-eval-cache');
      const env = { ...process.env, CI: '1', SLIME_STORE: store, SLIME_EVAL_CACHE_DIR: userEvalCache };
      log(`cli: ${rounds} rounds each`);
      const help = sideBySide(rounds, () => measure(...slimeArgs('--help'), { env }), NODE);
      figures.push(againstNodeStart('slime --help', help, { target: { max: 100 } }));
      const targets = () => measure(...slimeArgs('targets'), { env, cwd: path.resolve(import.meta.dirname, '../..') });
      const cold = sideBySide(Math.min(rounds, 3), () => {
        removeTree(path.join(store, '.slime', 'eval-cache'));
        removeTree(userEvalCache);
        return targets();
      }, NODE);
      figures.push(againstNodeStart('slime targets, evaluating the project (no eval cache)', cold));
      targets();
      const warm = sideBySide(rounds, targets, NODE);
      figures.push(againstNodeStart('slime targets (evaluation cached)', warm, { target: { max: 100 } }));
      const fullStore = benchStoreDir();
      const realize = (target: string) => () =>
        measure(...slimeArgs('realize', target, '--store', fullStore, '--log-format', 'plain', '--no-link'), {
          env: { ...process.env, CI: '1' },
          cwd: path.resolve(import.meta.dirname, '../..'),
          allowFail: true,
        });
      const probe = fs.existsSync(fullStore) ? measure(...slimeArgs('targets', '--store', fullStore), { allowFail: true }) : undefined;
      // full-x86_64 itself when it is realized; else the quick tier's, said as such (same graph but for the PGO+LTO CPython).
      const target = ['full-x86_64', 'full-x86_64-quick'].find((t) => probe && new RegExp(`^${t}\\s+realized`, 'm').test(probe.stdout));
      if (target) {
        realize(target)();
        const noop = sideBySide(rounds, realize(target), NODE);
        if (!/0 built/.test(noop.a.stderr)) throw new Error(`cli: the no-op realize of ${target} did something:\n${noop.a.stderr.slice(-1000)}`);
        const standIn = target === 'full-x86_64' ? {} : { note: `full-x86_64 is not realized in ${fullStore}: its quick tier stands in` };
        figures.push(againstNodeStart(`no-op realize ${target}`, noop, { target: { max: 150 }, ...standIn }));
        // The same no-op as a person at a terminal sees it: the TUI draws the run's record
        // (the tree, the sample comparison's results) in a 120x40 pseudo-terminal that
        // script(1) makes. It loads Ink: 770 ms before Ink came bundled, 376 ms after (tui/README.md).
        const [cli, cliArgs] = slimeArgs('realize', target, '--store', fullStore, '--log-format', 'tui', '--no-link');
        const shell = (words: string[]) => words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
        const inTerminal = () =>
          measure('script', ['-qec', `stty cols 120 rows 40; exec ${shell([cli, ...cliArgs])}`, '/dev/null'], {
            env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI' && k !== 'NODE_ENV')),
            cwd: path.resolve(import.meta.dirname, '../..'),
          });
        inTerminal();
        const tui = sideBySide(rounds, inTerminal, NODE);
        if (!/0 built/.test(tui.a.stdout)) throw new Error(`cli: the no-op realize of ${target} in a terminal did something:\n${tui.a.stdout.slice(-1000)}`);
        figures.push(
          againstNodeStart(`no-op realize ${target} in a terminal (TUI)`, tui, { target: { max: 500 }, note: 'script(1) makes the terminal; its own start is in the figure' }),
        );
      } else {
        log(`cli: neither full-x86_64 nor full-x86_64-quick is realized in ${fullStore}: the no-op figure is left out (set SLIME_BENCH_STORE)`);
      }
      return figures;
    } finally {
      removeTree(work);
    }
  },
};
