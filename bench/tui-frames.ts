/**
 * The CPU of one TUI frame, alone: the live view of the synthetic 20-derivation run
 * (Ink, to a terminal that discards), fed 50,000 log lines a second, and a frame drawn
 * every --gap ms by publishing the store by hand (not the TUI's own pacing, which
 * spaces frames by their cost). Reports the median CPU from publish() to the microtask
 * after it, by which React has rendered and Ink has written the frame, over the last
 * half of the frames (the first half warms the JIT up).
 *
 * Not a figure of `npm run bench` (tui-throughput.ts is: what drawing costs a build
 * under the pacing); this one says what a change to drawing does to a frame.
 *
 *   npm run build && NODE_ENV=production node dist/bench/tui-frames.js [--frames 80] [--gap 100]
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createElement } from 'react';
import { render } from 'ink';
import { RealizeApp, TuiStore } from '../tui/realize-view.js';
import { emitNoisyLines, NOISY_BUILDS, plannedEvent } from '../tui/synthetic.js';
import { numberArg as arg } from './lib.js';
import { FakeTerminal } from './tui-throughput.js';

const FRAMES = arg('frames', 80);
const GAP_MS = arg('gap', 100);
const RATE = 50_000;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const store = new TuiStore(Date.now());
const stdin = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
const app = render(createElement(RealizeApp, { store }), {
  stdout: new FakeTerminal() as unknown as NodeJS.WriteStream,
  stdin,
  exitOnCtrlC: false,
  patchConsole: false,
  maxFps: 1000,
});
const t0 = Date.now();
store.push(plannedEvent(t0, 20));
for (const drvPath of NOISY_BUILDS) store.push({ type: 'started', time: t0, drvPath, action: 'build' });

const begin = performance.now();
let sent = 0;
const frameMs: number[] = [];
for (let frame = 0; frame < FRAMES; frame++) {
  const until = performance.now() + GAP_MS;
  while (performance.now() < until) {
    const due = Math.floor(((performance.now() - begin) / 1000) * RATE);
    emitNoisyLines((event) => store.push(event), sent, due, Date.now());
    sent = Math.max(sent, due);
    await sleep(10);
  }
  const before = cpuMs();
  store.publish(Date.now());
  // React renders in a microtask publish() queued, and Ink writes in its commit: a
  // microtask queued now runs after both (as realize-view.ts's pacing measures a frame).
  frameMs.push(await new Promise<number>((resolve) => queueMicrotask(() => resolve(cpuMs() - before))));
}
app.unmount();
const measured = frameMs.slice(Math.floor(FRAMES / 2)).sort((a, b) => a - b);
const median = measured[Math.floor(measured.length / 2)]!;
console.log(
  `${FRAMES} frames, one every ${GAP_MS} ms at ${RATE} log lines/s: CPU per frame over the last ${measured.length}: median ${median.toFixed(2)} ms (min ${measured[0]!.toFixed(2)}, max ${measured.at(-1)!.toFixed(2)})`,
);
process.exit(0);
