/**
 * What the TUI costs a noisy build, next to plain logging.
 *
 * Feeds 50,000 log lines a second of synthetic compiler output (plus phase ticks)
 * through a sink that does nothing, the plain logger writing to a discarding
 * stream, and the TUI rendering to a fake terminal (or the real one with --tty),
 * one after the other in this process, and reports the CPU each consumed beyond
 * the do-nothing sink. The TUI's extra CPU as a share of wall time is what a
 * build sharing the machine loses: the target is at most 3%.
 *
 *   NODE_ENV=production node dist/bench/tui-throughput.js [--seconds 10] [--warmup 5] [--rate 50000] [--tty]
 *
 * React is several times slower in development mode, so run it as users will.
 */
import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { realpathSync } from 'node:fs';
import type { EventSink } from '../src/events.js';
import { numberArg as arg, type Benchmark, type Figure } from './lib.js';
import { plainLogger } from '../src/logging/plain.js';
import { FRAME_MS, startTui, TuiStore } from '../tui/realize-view.js';
import { emitNoisyLines, NOISY_BUILDS, plannedEvent } from '../tui/synthetic.js';

let SECONDS = arg('seconds', 10);
let WARMUP = arg('warmup', 5);
const RATE = arg('rate', 50_000);
let USE_TTY = process.argv.includes('--tty');
const TICK_MS = 10;

/** Counts what it is given and keeps none of it; shaped like a terminal for Ink. */
export class FakeTerminal extends Writable {
  bytes = 0;
  writes = 0;
  columns = 120;
  rows = 40;
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    this.writes++;
    done();
  }
}

interface Result {
  cpuMs: number;
  wallMs: number;
  events: number;
}

/** Paces events at RATE per second on a timer, as a child process's pipe would deliver them. */
async function drive(sink: EventSink, seconds = SECONDS): Promise<Result> {
  const t0 = Date.now();
  sink.emit(plannedEvent(t0, 20));
  for (const drvPath of NOISY_BUILDS) sink.emit({ type: 'started', time: t0, drvPath, action: 'build', logPath: `/tmp/${drvPath.slice(7, 15)}.log` });
  const begin = performance.now();
  let sent = 0;
  let cpu0 = process.cpuUsage();
  let start = begin;
  let measured = 0;
  let warm = WARMUP === 0;
  while (!warm || performance.now() - start < seconds * 1000) {
    // JIT and the TUI's frame pacing settle first, as they have in any build that lasts.
    if (!warm && performance.now() - begin >= WARMUP * 1000) {
      warm = true;
      cpu0 = process.cpuUsage();
      start = performance.now();
      measured = sent;
    }
    const due = Math.floor(((performance.now() - begin) / 1000) * RATE);
    emitNoisyLines((event) => sink.emit(event), sent, due, Date.now());
    sent = Math.max(sent, due);
    await sleep(TICK_MS);
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu0);
  const runMs = performance.now() - begin;
  for (const drvPath of NOISY_BUILDS) sink.emit({ type: 'built', time: Date.now(), drvPath, outputs: {}, durationMs: runMs });
  sink.emit({ type: 'finished', time: Date.now(), built: NOISY_BUILDS.length, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: runMs, results: {} });
  await sink.close?.();
  return { cpuMs: (used.user + used.system) / 1000, wallMs, events: sent - measured };
}

/** The TUI's bookkeeping without Ink: separates folding events from drawing frames. */
function storeOnly(): EventSink {
  const store = new TuiStore(Date.now());
  const timer = setInterval(() => store.dirty && store.publish(Date.now()), FRAME_MS);
  return {
    emit: (event) => store.push(event),
    close: () => {
      clearInterval(timer);
      store.publish(Date.now());
    },
  };
}

function line(label: string, r: Result, baseline?: Result): string {
  const over = baseline === undefined ? '' : `, ${(r.cpuMs - baseline.cpuMs).toFixed(0)} ms over the null sink (${(((r.cpuMs - baseline.cpuMs) / r.wallMs) * 100).toFixed(2)}% of a core)`;
  return `${label.padEnd(14)} ${r.events} events in ${(r.wallMs / 1000).toFixed(2)} s, cpu ${r.cpuMs.toFixed(0)} ms${over}`;
}

async function main(log: (line: string) => void = console.log): Promise<Figure[]> {
  log(`NODE_ENV=${process.env['NODE_ENV'] ?? '(unset: React development build)'}; ${RATE} log lines/s, measured for ${SECONDS} s per sink after ${WARMUP} s of warm-up`);
  // A pass not measured: the first sink measured would otherwise pay for whatever the
  // process did before (the driver's JIT; in `npm run bench`, the earlier benchmarks'
  // garbage): in one run the null sink cost more than the plain logger (-0.52 % of a core).
  await drive({ emit() {} }, WARMUP);
  const nothing = await drive({ emit() {} });
  const plain = await drive(plainLogger(new FakeTerminal()));
  const folded = await drive(storeOnly());
  const screen = new FakeTerminal();
  const stdin = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
  const tui = await drive(
    startTui(USE_TTY ? {} : { stdout: screen as unknown as NodeJS.WriteStream, stdin }),
  );
  log(line('null sink', nothing));
  log(line('plain logger', plain, nothing));
  log(line('tui state', folded, nothing) + ' (events folded each frame, nothing drawn)');
  log(line('tui', tui, nothing) + (USE_TTY ? '' : `; ${screen.writes} writes, ${(screen.bytes / 1024).toFixed(0)} KiB to the terminal`));
  const plainExtra = (plain.cpuMs - nothing.cpuMs) / plain.wallMs;
  const tuiExtra = (tui.cpuMs - nothing.cpuMs) / tui.wallMs;
  const slowdown = (tuiExtra - plainExtra) * 100;
  if (plainExtra > 0.001) log(`tui/plain sink CPU ratio: ${(tuiExtra / plainExtra).toFixed(2)}x`);
  log(`the TUI takes ${slowdown.toFixed(2)}% of a core more than plain logging (target: at most 3%): ${slowdown <= 3 ? 'within' : 'OVER'} budget`);
  return [
    {
      name: `tui: CPU share of a core at ${RATE} log lines/s`,
      unit: '%',
      slime: tuiExtra * 100,
      reference: { label: 'plain logger', value: plainExtra * 100 },
      note: `the TUI takes ${slowdown.toFixed(2)}% of a core more than plain logging (target <= 3)`,
    },
    {
      name: 'tui: extra CPU over plain logging',
      unit: '%',
      slime: slowdown,
      target: { max: 3 },
    },
  ];
}

export const tuiBenchmark: Benchmark = {
  name: 'tui',
  description: 'what the TUI costs a noisy build (50,000 log lines/s), next to plain logging',
  run: async ({ quick, log }) => {
    process.env.NODE_ENV ??= 'production';
    if (quick) {
      SECONDS = 2;
      WARMUP = 1;
    }
    USE_TTY = false;
    return main(log);
  },
};

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === import.meta.filename) await main();
