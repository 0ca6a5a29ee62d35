import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { effectsFlushed, until } from './support/until.js';
import type { SlimeEvent } from '../src/events.js';
import { RealizeApp, startTui, TuiStore } from '../tui/realize-view.js';
import { plannedEvent, syntheticDrvPath as p, syntheticLogLine } from '../tui/synthetic.js';
import { MAX_LOG_LINES } from '../tui/view-model.js';
import stringWidth from 'string-width';

const T0 = 1_700_000_000_000;
afterEach(() => cleanup());

/** Key presses reach React asynchronously: wait until the pane shows `name` (or fail with what it shows). */
async function paneBecomes(lastFrame: () => string | undefined, name: string): Promise<string> {
  await until(() => expect(paneTitle(lastFrame())).toBe(name));
  return paneTitle(lastFrame());
}

function paneTitle(frame: string | undefined): string {
  return /── log of (\S+)/.exec(frame ?? '')?.[1] ?? '(no pane)';
}

/** Three builds with output: quick started first, then pgo, then isolate (the default focus). */
function threeBuilds(store: TuiStore): void {
  store.push(plannedEvent(T0));
  ['cpython-3.11.2-quick', 'cpython-3.11.2-pgo', 'isolate'].forEach((name, i) => {
    store.push({ type: 'started', time: T0 + i, drvPath: p(name), action: 'build' });
    store.push({ type: 'log', time: T0 + i, drvPath: p(name), stream: 'stdout', line: `hello from ${name}` });
  });
  store.publish(T0 + 1000);
}

describe('RealizeApp', () => {
  it('moves the log pane with Tab and arrows, and follows again on Esc', async () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    const { lastFrame, stdin } = render(<RealizeApp store={store} width={100} height={30} />);
    await effectsFlushed();
    // Tree order: isolate, its input pgo, then quick.
    expect(paneTitle(lastFrame())).toBe('isolate');
    expect(lastFrame()).toContain('hello from isolate');
    stdin.write('\t');
    expect(await paneBecomes(lastFrame, 'cpython-3.11.2-pgo')).toBe('cpython-3.11.2-pgo');
    expect(lastFrame()).toContain('hello from cpython-3.11.2-pgo');
    expect(lastFrame()).toMatch(/›● │  ├─ cpython-3\.11\.2-pgo/);
    stdin.write('\u001B[B'); // down
    expect(await paneBecomes(lastFrame, 'cpython-3.11.2-quick')).toBe('cpython-3.11.2-quick');
    stdin.write('\t');
    expect(await paneBecomes(lastFrame, 'isolate')).toBe('isolate');
    stdin.write('\u001B[Z'); // shift-tab
    expect(await paneBecomes(lastFrame, 'cpython-3.11.2-quick')).toBe('cpython-3.11.2-quick');
    stdin.write('\u001B');
    expect(await paneBecomes(lastFrame, 'isolate')).toBe('isolate');
  });

  it('keeps a chosen focus while other builds start', async () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    const { lastFrame, stdin } = render(<RealizeApp store={store} width={100} height={30} />);
    await effectsFlushed();
    stdin.write('\t');
    expect(await paneBecomes(lastFrame, 'cpython-3.11.2-pgo')).toBe('cpython-3.11.2-pgo');
    // Unpinned, the newest build would take the pane.
    store.push({ type: 'started', time: T0 + 10, drvPath: p('cargo-vendor'), action: 'fetch' });
    store.publish(T0 + 1100);
    await until(() => expect(lastFrame()).toMatch(/↓ .*cargo-vendor/));
    expect(paneTitle(lastFrame())).toBe('cpython-3.11.2-pgo');
  });

  it('draws nothing new until the store publishes, however many events arrive', async () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    const { frames, lastFrame } = render(<RealizeApp store={store} width={100} height={30} />);
    const before = frames.length;
    for (let i = 0; i < 20_000; i++) store.push({ type: 'log', time: T0, drvPath: p('isolate'), stream: 'stdout', line: `line ${i}` });
    // Nothing to wait for: React had every turn of the loop it wanted, and drew nothing.
    await effectsFlushed();
    expect(frames.length).toBe(before);
    store.publish(T0 + 2000);
    await until(() => expect(frames.length).toBeGreaterThan(before));
    expect(frames.length).toBe(before + 1);
    expect(lastFrame()).toContain('line 19999');
    expect(lastFrame()).toContain('20001 lines');
  });
});

describe('TuiStore', () => {
  it('never changes a published state, though later events grow the same logs in place', () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    const published = store.getSnapshot().state;
    const tail = published.derivations[p('isolate')]!.log;
    const frozen = JSON.stringify(published);
    for (let i = 0; i < 1000; i++) store.push({ type: 'log', time: T0, drvPath: p('isolate'), stream: 'stdout', line: `more ${i}` });
    store.push({ type: 'failed', time: T0 + 5, drvPath: p('isolate'), reason: { kind: 'exit', exitCode: 1, signal: null } });
    expect(JSON.stringify(published)).toBe(frozen);
    expect(tail.total).toBe(1);
    store.publish(T0 + 2000);
    const next = store.getSnapshot().state.derivations[p('isolate')]!;
    expect(next.log.total).toBe(1001);
    expect(next.status).toBe('failed');
  });

  it('keeps as many lines of a log as the pane can show, and the pane shows the newest in order', async () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    // A blank line among them: it keeps its place in the pane.
    for (let i = 1; i <= 5000; i++) store.push({ type: 'log', time: T0, drvPath: p('isolate'), stream: 'stdout', line: i === 4995 ? '' : `line ${i}` });
    store.publish(T0 + 2000);
    const log = store.getSnapshot().state.derivations[p('isolate')]!.log;
    expect(log.total).toBe(5001);
    // What a build's tail keeps alive is what every young-generation collection copies.
    expect(log.length).toBeLessThanOrEqual(2 * MAX_LOG_LINES);
    const { lastFrame } = render(<RealizeApp store={store} width={100} height={40} />);
    await effectsFlushed();
    const lines = (lastFrame() ?? '').split('\n');
    const header = lines.findIndex((l) => l.includes('── log of isolate · 5001 lines'));
    expect(header).toBeGreaterThan(0);
    const expected = Array.from({ length: MAX_LOG_LINES }, (_, k) => 5000 - MAX_LOG_LINES + 1 + k).map((i) => (i === 4995 ? '' : `line ${i}`));
    expect(lines.slice(header + 1, header + 1 + MAX_LOG_LINES).map((l) => l.trimEnd())).toEqual(expected);
  });

  it('gives each log line one row of the pane, wide characters and all', async () => {
    const store = new TuiStore(T0);
    threeBuilds(store);
    for (let i = 1; i <= 100; i++) store.push({ type: 'log', time: T0, drvPath: p('isolate'), stream: 'stdout', line: `${i} ${'✅ passed 中文 ☺\uFE0F '.repeat(10)}` });
    store.publish(T0 + 2000);
    const { lastFrame } = render(<RealizeApp store={store} width={60} height={40} />);
    await effectsFlushed();
    const lines = (lastFrame() ?? '').split('\n');
    const header = lines.findIndex((l) => l.includes('── log of isolate'));
    const pane = lines.slice(header + 1, header + 1 + MAX_LOG_LINES);
    // A line cut too wide would wrap onto a row of its own, the next line's number one row lower.
    expect(pane.map((l) => l.split(' ')[0])).toEqual(Array.from({ length: MAX_LOG_LINES }, (_, k) => String(100 - MAX_LOG_LINES + 1 + k)));
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(60);
  });
});

/** Collects what Ink writes; sized like a terminal but not one. */
class Screen extends Writable {
  text = '';
  writes = 0;
  columns = 100;
  rows = 30;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.writes++;
    done();
  }
}

function start() {
  const screen = new Screen();
  const stdin = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
  let now = T0;
  const sink = startTui({ stdout: screen as unknown as NodeJS.WriteStream, stdin, clock: () => now, patchConsole: false });
  return { screen, sink, advance: (ms: number) => (now += ms) };
}

describe('startTui', () => {
  it('batches a flood of log lines into a few frames and ends on the summary', async () => {
    const { screen, sink, advance } = start();
    const verify = p('isolate-verify');
    sink.emit(plannedEvent(T0));
    sink.emit({ type: 'started', time: T0, drvPath: verify, action: 'build' });
    for (let i = 0; i < 50_000; i++) sink.emit({ type: 'log', time: T0, drvPath: verify, stream: 'stdout', line: syntheticLogLine(i) });
    // Time for a pacer that drew per event to show it. Not a wait for something to
    // happen: load only makes fewer frames, so this cannot fail because the machine is busy.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(screen.writes).toBeLessThan(10);
    advance(65_000);
    sink.emit({ type: 'built', time: T0 + 65_000, drvPath: verify, outputs: {}, durationMs: 65_000 });
    sink.emit({ type: 'finished', time: T0 + 65_000, built: 6, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 65_000, results: {} });
    await sink.close?.();
    expect(screen.text).toContain('✔ Done in 1m05s: 6 built, 1 cached, 0 substituted, 0 failed');
  });

  it('shows the report a verified event carries, reading no file', async () => {
    const report = {
      total: 1,
      passed: 1,
      samples: [{ name: 'hello', category: 'poc0', pass: true, stdout: { python: { sha256: 'f'.repeat(64), bytes: 6 }, isolate: { sha256: 'f'.repeat(64), bytes: 6 } } }],
    };
    const { screen, sink } = start();
    const verify = p('isolate-verify');
    const events: SlimeEvent[] = [
      plannedEvent(T0),
      // No such file: the report in the event is all the TUI has, and all it needs.
      { type: 'verified', time: T0, drvPath: verify, passed: 1, total: 1, reportPath: '/reports/r.json', report } as unknown as SlimeEvent,
      { type: 'built', time: T0, drvPath: verify, outputs: {}, durationMs: 1 },
      { type: 'finished', time: T0, built: 1, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 1, results: {} },
    ];
    for (const e of events) sink.emit(e);
    await sink.close?.();
    expect(screen.text).toContain('Sample comparison of isolate-verify  1/1 bit-exact');
    expect(screen.text).toContain('PASS  hello');
  });

  it('leaves a record taller than the terminal in the scrollback, and ends on a line of its own', async () => {
    const digest = { sha256: 'f'.repeat(64), bytes: 6 };
    const samples = Array.from({ length: 67 }, (_, i) => ({ name: `sample_${i}`, category: 'any', pass: true, stdout: { python: digest, isolate: digest } }));
    const { screen, sink } = start();
    // A terminal: Ink treats a frame as tall as a terminal's screen differently from one in a pipe.
    Object.assign(screen, { isTTY: true });
    const verify = p('isolate-verify');
    sink.emit(plannedEvent(T0));
    sink.emit({ type: 'started', time: T0, drvPath: verify, action: 'build' });
    sink.emit({ type: 'verified', time: T0, drvPath: verify, passed: 67, total: 67, reportPath: '/reports/r.json', report: { total: 67, passed: 67, samples } } as unknown as SlimeEvent);
    sink.emit({ type: 'built', time: T0, drvPath: verify, outputs: {}, durationMs: 1 });
    sink.emit({ type: 'finished', time: T0, built: 1, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 1, results: {} });
    await sink.close?.();
    // Erasing the screen (ED 2) or the scrollback (ED 3) would lose what the run printed above.
    expect(screen.text).not.toMatch(/\x1b\[[23]J/);
    // eslint-disable-next-line no-control-regex
    const plain = screen.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    for (const s of samples) expect(plain).toMatch(new RegExp(`  PASS  ${s.name} +any +6 B  ffffffffffff\n`));
    expect(plain).toMatch(/Sample comparison of isolate-verify {2}67\/67 bit-exact\n(.*PASS.*\n){67}✔ Done in 0\.0s: 1 built, 1 cached, 0 substituted, 0 failed\n$/);
  });

  it('shows the counts for a verified event without a report (a log from before events carried it)', async () => {
    const { screen, sink } = start();
    const verify = p('isolate-verify');
    sink.emit(plannedEvent(T0));
    sink.emit({ type: 'verified', time: T0, drvPath: verify, passed: 40, total: 41, reportPath: '/reports/gone.json' } as unknown as SlimeEvent);
    sink.emit({ type: 'finished', time: T0, built: 1, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 1, results: {} });
    await sink.close?.();
    expect(screen.text).toContain('Sample comparison of isolate-verify: 40/41 bit-exact (report: /reports/gone.json)');
  });
});
