import { useStdin } from 'ink';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { LogViewer, useLogViewer } from '../tui/components/LogViewer.js';
import { findMatch, INITIAL_VIEWER, topOf, viewerReduce, type ViewerAction, type ViewerState } from '../tui/log-viewer.js';

afterEach(() => cleanup());

const lines = Array.from({ length: 100 }, (_, i) => (i % 30 === 7 ? `error: step ${i} failed` : `ok step ${i}`));
const ctx = { lines, height: 10 };
const run = (actions: ViewerAction[], state: ViewerState = INITIAL_VIEWER) => actions.reduce((s, a) => viewerReduce(s, a, ctx), state);

describe('viewerReduce', () => {
  it('follows the end of a growing log until scrolled up, and again once back at the end', () => {
    expect(topOf(INITIAL_VIEWER, ctx)).toBe(90);
    expect(topOf(INITIAL_VIEWER, { lines: [...lines, 'new'], height: 10 })).toBe(91);
    const up = run([{ type: 'scroll', by: -5 }]);
    expect(up.follow).toBe(false);
    expect(topOf(up, { lines: [...lines, 'new'], height: 10 })).toBe(85);
    expect(run([{ type: 'scroll', by: 5 }], up).follow).toBe(true);
    expect(run([{ type: 'home' }, { type: 'page', by: 1 }]).top).toBe(9);
    expect(run([{ type: 'home' }, { type: 'end' }]).follow).toBe(true);
  });

  it('searches forward from the top of the window, wraps, and goes back with N', () => {
    const typed = run([{ type: 'home' }, { type: 'search-start' }, ...[...'error'].map((c): ViewerAction => ({ type: 'search-input', text: c })), { type: 'search-submit' }]);
    expect(typed).toMatchObject({ query: 'error', match: 7, editing: undefined });
    const hops = [1, 1, 1, -1].map((direction) => ({ type: 'next-match', direction }) as ViewerAction);
    const visited: number[] = [];
    hops.reduce((s, a) => {
      const next = viewerReduce(s, a, ctx);
      visited.push(next.match);
      return next;
    }, typed);
    expect(visited).toEqual([37, 67, 97, 67]);
    // The match is brought into the window.
    expect(topOf(run([{ type: 'next-match', direction: 1 }], typed), ctx)).toBeLessThanOrEqual(37);
  });

  it('uses smart case, repeats the last search on an empty one, and says when nothing matches', () => {
    expect(findMatch(lines, 'ERROR', 0, 1)).toBe(-1);
    expect(findMatch(lines, 'error', 0, 1)).toBe(7);
    const first = run([{ type: 'home' }, { type: 'search-start' }, { type: 'search-input', text: 'step 4' }, { type: 'search-submit' }]);
    expect(first.match).toBe(4);
    const again = run([{ type: 'search-start' }, { type: 'search-submit' }], first);
    expect(again.query).toBe('step 4');
    expect(run([{ type: 'search-start' }, { type: 'search-input', text: 'zzz' }, { type: 'search-submit' }]).match).toBe(-1);
    expect(run([{ type: 'search-start' }, { type: 'search-input', text: 'x' }, { type: 'search-cancel' }]).query).toBe('');
  });
});

function Harness({ log }: { log: readonly string[] }) {
  const { isRawModeSupported } = useStdin();
  const state = useLogViewer(log, 5, { isActive: isRawModeSupported === true });
  return <LogViewer title="build.log" lines={log} state={state} height={5} width={60} />;
}

async function frameMatching(lastFrame: () => string | undefined, pattern: RegExp): Promise<string> {
  for (let waited = 0; waited < 2000 && !pattern.test(lastFrame() ?? ''); waited += 10) await new Promise((r) => setTimeout(r, 10));
  return lastFrame() ?? '';
}

describe('LogViewer', () => {
  it('shows the end with line numbers, then finds and marks matches typed after /', async () => {
    const { lastFrame, stdin } = render(<Harness log={lines} />);
    expect(lastFrame()).toContain('── build.log · lines 96–100 of 100 · following ──');
    expect(lastFrame()).toMatch(/^100  ok step 99$/m);
    stdin.write('g');
    await frameMatching(lastFrame, /lines 1–5 of 100/);
    stdin.write('/');
    for (const c of 'step 1') stdin.write(c);
    expect(await frameMatching(lastFrame, /^\/step 1$/m)).toMatch(/^\/step 1$/m);
    stdin.write('\r');
    const found = await frameMatching(lastFrame, /\/step 1 \d+ lines/);
    expect(found).toContain('/step 1 11 lines');
    expect(found).toMatch(/ {2}2▶ ok step 1$/m);
    stdin.write('n');
    const next = await frameMatching(lastFrame, /11▶/);
    expect(next).toMatch(/ 11▶ ok step 10$/m);
    stdin.write('G');
    expect(await frameMatching(lastFrame, /following/)).toContain('lines 96–100 of 100');
  });
});
