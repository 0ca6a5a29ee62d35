/**
 * The full-log viewer of `slime tui`, rendered with ink-testing-library over a real
 * file: where it opens, scrolling by line and page, search with `/`, `n` and `N`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from './support/until.js';
import { LogViewer } from '../tui/app/LogViewer.js';
import { openLog, reduceLogView, type LogView } from '../tui/app/log-view.js';
import { tempDir } from './support/cli.js';

const KEY = { up: '\x1b[A', down: '\x1b[B', pageUp: '\x1b[5~', pageDown: '\x1b[6~', enter: '\r', escape: '\x1b', backspace: '\x7f' };

/** 120 lines; "needle" on lines 40 and 90 only. */
function writeLog(): string {
  const file = path.join(tempDir('slime-tui-log-'), 'build.log');
  const lines = Array.from({ length: 120 }, (_, i) => (i + 1 === 40 || i + 1 === 90 ? `step ${i + 1}: warning: unused variable needle` : `step ${i + 1}`));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function viewer(file: string, height = 20) {
  const onBack = vi.fn();
  const onQuit = vi.fn();
  const r = render(<LogViewer name="compiler" file={file} width={80} height={height} onBack={onBack} onQuit={onQuit} />);
  const frame = () => r.lastFrame() ?? '';
  /** Types keys one write at a time, waiting for the frame to show `expected`. */
  const press = async (keys: string, expected: string | RegExp) => {
    r.stdin.write(keys);
    await until(() => expect(frame()).toMatch(expected));
  };
  return { ...r, frame, press, onBack, onQuit };
}

describe('the log viewer', () => {
  let unmount: (() => void) | undefined;
  afterEach(() => unmount?.());

  it('opens at the end of the log, where a failed build says why', async () => {
    const v = viewer(writeLog());
    unmount = v.unmount;
    // 20 lines: the header, 17 of the log, a spacer, the status line.
    await until(() => expect(v.frame()).toContain('── log of compiler · lines 104–120 of 120 ──'));
    const lines = v.frame().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[1]).toBe(' 104  step 104');
    expect(lines[17]).toBe(' 120  step 120');
    expect(lines[19]).toContain('↑↓/jk scroll · PgUp/PgDn page · g/G start/end · / search · n/N next/previous');
  });

  it('scrolls by line and by page, and stops at either end', async () => {
    const v = viewer(writeLog());
    unmount = v.unmount;
    await until(() => expect(v.frame()).toContain('lines 104–120'));
    await v.press(KEY.up, 'lines 103–119');
    await v.press('k', 'lines 102–118');
    await v.press(KEY.pageUp, 'lines 86–102');
    await v.press('g', 'lines 1–17 of 120');
    expect(v.frame().split('\n')[1]).toBe('   1  step 1');
    await v.press(KEY.up, 'lines 1–17 of 120');
    await v.press(KEY.down, 'lines 2–18');
    await v.press('j', 'lines 3–19');
    await v.press(KEY.pageDown, 'lines 19–35');
    await v.press('G', 'lines 104–120');
    await v.press(KEY.pageDown, 'lines 104–120');
  });

  it('finds text with /, marks the match, and walks the matches with n and N, wrapping', async () => {
    const v = viewer(writeLog());
    unmount = v.unmount;
    await until(() => expect(v.frame()).toContain('lines 104–120'));
    await v.press('g', 'lines 1–17');
    await v.press('/', /^\/ +type the text · Enter find · Esc cancel/m);
    // Typed keys are text now, even those that scroll or quit outside a search.
    await v.press('nqx', /^\/nqx /m);
    await v.press(KEY.backspace + KEY.backspace + KEY.backspace, /^\/ +type/m);
    await v.press('NEEDLE', /^\/NEEDLE /m);
    expect(v.onQuit).not.toHaveBeenCalled();
    // Case does not matter; the match line comes a few lines below the top.
    await v.press(KEY.enter, '/NEEDLE: match 1 of 2');
    expect(v.frame()).toContain('lines 37–53 of 120');
    expect(v.frame()).toMatch(/^› 40  step 40: warning: unused variable needle$/m);
    await v.press('n', '/NEEDLE: match 2 of 2');
    expect(v.frame()).toMatch(/^› 90  step 90: warning: unused variable needle$/m);
    await v.press('n', '/NEEDLE: match 1 of 2');
    await v.press('N', '/NEEDLE: match 2 of 2');
    // An empty search repeats the last one, from the top line shown.
    await v.press('g', 'lines 1–17');
    await v.press('/', /^\/ +type/m);
    await v.press(KEY.enter, '/NEEDLE: match 1 of 2');
    await v.press('/', /^\/ +type/m);
    await v.press('haystack', /^\/haystack /m);
    await v.press(KEY.enter, 'not found: haystack');
  });

  it('hands Esc and q to its owner, and says when there is no log', async () => {
    const v = viewer(path.join(tempDir(), 'missing.log'));
    unmount = v.unmount;
    await until(() => expect(v.frame()).toContain('there is no log: it was not built in this store'));
    v.stdin.write('q');
    await until(() => expect(v.onQuit).toHaveBeenCalledTimes(1));
    unmount();
    const w = viewer(writeLog());
    unmount = w.unmount;
    await until(() => expect(w.frame()).toContain('lines 104–120'));
    w.stdin.write(KEY.escape);
    await until(() => expect(w.onBack).toHaveBeenCalledTimes(1));
    expect(w.onQuit).not.toHaveBeenCalled();
  });

  it('follows a growing log at the end, but not once the reader has scrolled away', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
    let view: LogView = openLog(lines(30), 10);
    expect(view.top).toBe(20);
    view = reduceLogView(view, { type: 'loaded', lines: lines(40) });
    expect(view.top).toBe(30);
    view = reduceLogView(view, { type: 'scroll', by: -5 });
    expect(reduceLogView(view, { type: 'scroll', by: 5 }).follow).toBe(true);
    view = reduceLogView(view, { type: 'loaded', lines: lines(50) });
    expect(view.top).toBe(25);
    view = reduceLogView(view, { type: 'bottom' });
    view = reduceLogView(view, { type: 'loaded', lines: lines(55) });
    expect(view.top).toBe(45);
  });
});
