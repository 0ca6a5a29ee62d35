/**
 * `slime tui` on a real terminal (tmux, 120x40), driven by keys as a person would:
 * pick a target, realize it, read and search a log, see the results, rerun the
 * sample comparison, watch a failure, quit, and find the shell as it was left.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, slime, tempDir } from './support/cli.js';
import { Tmux } from './fixtures/tui/tmux.js';
import { appendRunRecord } from '../src/store/run-records.js';
import { Store } from '../src/store/store.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/tui/demo.ts');

/** Starts the shell, notes the terminal's settings and a marker line, then starts the app. */
async function startApp(term: Tmux, store: string): Promise<string> {
  term.type('stty -g > stty.before; echo before-the-tui', true);
  await term.waitFor(/^before-the-tui$/m);
  term.type(`node ${CLI} tui -f ${FIXTURE} --store ${store}; echo EXIT=$?`, true);
  return term.waitFor('TARGET');
}

/** Starts the app and, in it, the build that runs until it is stopped; returns the screen once it runs. */
async function startSlowBuild(term: Tmux, store: string): Promise<string> {
  await startApp(term, store);
  for (let i = 0; i < 3; i++) term.keys('j');
  await term.waitFor(/ › ○ slow/);
  term.keys('Enter');
  return term.waitFor(/›● slow .*\n(.|\n)*taking my time/);
}

/** After the app: same stty settings, cursor shown, main screen back with the marker line. */
async function expectTerminalRestored(term: Tmux): Promise<void> {
  term.type('stty -g | cmp -s - stty.before && echo STTY-SAME', true);
  const screen = await term.waitFor(/^STTY-SAME$/m);
  expect(screen).toMatch(/^before-the-tui$/m);
  expect(screen).not.toContain('TARGET');
  expect(term.display('alternate=#{alternate_on} cursor=#{cursor_flag}')).toBe('alternate=0 cursor=1');
}

// Each test drives a real terminal through several screens: minutes, not seconds, on a loaded machine.
describe('slime tui in a terminal', { timeout: 600_000 }, () => {
  let term: Tmux | undefined;
  afterEach(() => {
    term?.kill();
    term = undefined;
  });

  it('realizes a picked target, opens and searches a log, shows results, compares the samples again, and quits with q', async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = path.join(dir, 'store');
    term = new Tmux(120, 40, dir);
    let screen = await startApp(term, store);

    expect(screen).toMatch(/ › ○ good +not yet 0\/3 +— +builds and verifies\n/);
    expect(screen).toMatch(/   ○ broken +not yet 0\/3 +— +fails in the middle\n/);
    expect(screen).toContain('Samples not compared yet: Enter realizes the target, the comparison included.');
    // The help line is the last line of the frame and offers only what works here.
    expect(screen.trimEnd().split('\n').at(-1)).toBe('↑↓/jk select · Enter realize · s compare samples again · c rebuild & compare · r runs · q quit');

    term.keys('Enter');
    // The run is over once the help line no longer offers to stop it.
    const settled = 'l/Enter full log · Esc targets · q quit';
    screen = await term.waitFor(settled);
    expect(screen).toMatch(/^realize good\n/);
    expect(screen).toMatch(/›✔ checks +\d+\.\ds +3\/3 bit-exact\n ✔ ├─ greeting +\d+\.\ds\n ✔ └─ compiler +\d+\.\ds\n/);
    expect(screen).toMatch(/✔ Done in \d+\.\ds: 3 built, 0 cached, 0 substituted, 0 failed\n/);
    expect(screen.trimEnd().split('\n').at(-1)).toBe('↑↓/jk select derivation · l/Enter full log · Esc targets · q quit');

    // Down twice from the target to compiler, then its full log: it opens at the end.
    term.keys('j');
    await term.waitFor(/›✔ ├─ greeting/);
    term.keys('j');
    await term.waitFor(/›✔ └─ compiler/);
    term.keys('l');
    screen = await term.waitFor('── log of compiler · lines 85–120 of 120 ──');
    expect(screen).toMatch(/^ +85  step 85 of 120\n/m);
    expect(screen).toMatch(/^ 120  step 120 of 120\n/m);

    term.keys('g');
    screen = await term.waitFor('lines 1–36 of 120');
    expect(screen).toMatch(/^ +1  step 1 of 120\n/m);
    term.keys('PageDown');
    await term.waitFor('lines 36–71 of 120');

    term.type('/needle');
    screen = await term.waitFor(/^\/needle /m);
    expect(screen).toContain('type the text · Enter find · Esc cancel');
    term.keys('Enter');
    screen = await term.waitFor('/needle: match 1 of 2');
    // Searching goes forward from the top line shown (36): line 40, shown with the lines leading up to it.
    expect(screen).toContain('── log of compiler · lines 37–72 of 120 ──');
    expect(screen).toMatch(/^› 40  step 40 of 120: warning: unused variable needle$/m);
    expect(term.colourOf('needle')).toBe('yellow');
    term.keys('n');
    screen = await term.waitFor('/needle: match 2 of 2');
    expect(screen).toContain('── log of compiler · lines 85–120 of 120 ──');
    expect(screen).toMatch(/^› 90  step 90 of 120: warning: unused variable needle$/m);
    // Past the last match the search wraps around to the first.
    term.keys('n');
    await term.waitFor('/needle: match 1 of 2');
    term.type('/nothing-like-this');
    term.keys('Enter');
    await term.waitFor('not found: nothing-like-this');

    // Back to the run, back to the targets: the target is realized and its results shown.
    term.keys('Escape');
    await term.waitFor('realize good');
    term.keys('Escape');
    screen = await term.waitFor(/ › ✔ good +realized 3\/3 +3\/3 bit-exact/);
    expect(screen).toMatch(/Sample comparison of good  3\/3 bit-exact\n  PASS  01_hello +basics +6 B  5891b5b522d5\n/);
    expect(screen).toContain('No benchmark yet: `slime bench good` measures one.');
    expect(screen).toContain('↑↓/jk select · Enter realize · s compare samples again · c rebuild & compare · Tab last run · r runs · q quit');
    expect(term.colourOf('✔ good')).toBe('green');

    // s builds the sample comparison again, and only it.
    term.keys('s');
    screen = await term.waitFor(settled);
    expect(screen).toMatch(/^compare samples again: good\n/);
    expect(screen).toMatch(/✔ Done in \d+\.\ds: 1 built, 2 cached, 0 substituted, 0 failed\n/);

    // A failing target: the failure list names it, and the list marks the target failed.
    term.keys('Escape');
    await term.waitFor('TARGET');
    term.keys('j');
    await term.waitFor(/ › ◐ broken/);
    term.keys('Enter');
    screen = await term.waitFor(settled);
    // The failure list cuts a long log path in the middle, keeping the log file's name.
    expect(screen).toMatch(/✖ 1 failed\n  broken  builder exited with code 3  \/tmp\/slime-tui-e2e-\S*-broken\.drv\.log\n/);
    expect(screen).toMatch(/── log of broken · 2 lines/);
    term.keys('Escape');
    screen = await term.waitFor(/ › ✖ broken +failed 1\/3/);
    expect(term.colourOf('✖ broken')).toBe('red');

    term.keys('q');
    screen = await term.waitFor(/^EXIT=\d+$/m);
    expect(screen).toMatch(/^EXIT=0$/m);
    await expectTerminalRestored(term);
  });

  it('stops a running build on Ctrl-C, waits for it, and gives the terminal back', async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = path.join(dir, 'store');
    term = new Tmux(120, 40, dir);
    const screen = await startSlowBuild(term, store);
    expect(screen).toContain('Ctrl-C/q stop builds and quit');
    expect(term.colourOf('● slow')).toBe('yellow');

    term.keys('C-c');
    await term.waitFor(/^EXIT=130$/m);
    // The builder (and its sleep) ended before slime did.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain('sleep 987');
    await expectTerminalRestored(term);
  });

  // As a shell reports a process a signal ended (128 + its number), and as `slime realize` exits.
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`stops a running build on ${signal} too, exits ${code}, and gives the terminal back`, async () => {
      const dir = tempDir('slime-tui-e2e-');
      const store = path.join(dir, 'store');
      term = new Tmux(120, 40, dir);
      await startSlowBuild(term, store);
      // This test's slime is the node process whose arguments name this test's store.
      const pid = Number(execFileSync('pgrep', ['-f', `${CLI} tui -f ${FIXTURE} --store ${store}`], { encoding: 'utf8' }).trim());
      process.kill(pid, signal);
      await term.waitFor(new RegExp(`^EXIT=${code}$`, 'm'));
      expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain('sleep 987');
      await expectTerminalRestored(term);
    });
  }

  it('lists the runs of slime run recorded in the store, and one recorded while it is shown', async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = new Store(path.join(dir, 'store'));
    store.init();
    const record = (time: number, tier: 'full' | 'light', wallMs: number, exitCode: number) =>
      appendRunRecord(store, {
        time,
        scriptHash: 'c0ffee'.padEnd(64, '0'),
        script: path.join(dir, 'loop.py'),
        tier,
        requested: 'auto',
        reasons: tier === 'full' ? [{ kind: 'profile', effect: 'prefers-full', detail: 'learned: an earlier Light run took 859 ms, over the 500 ms budget' }] : [],
        wallMs,
        exitCode,
        signal: null,
        budgetMs: 500,
      });
    const t0 = new Date(2026, 11, 2, 1, 22, 5).getTime();
    record(t0, 'light', 859.2, 0);
    term = new Tmux(120, 40, dir);
    await startApp(term, store.dir);
    term.keys('r');
    let screen = await term.waitFor('WHEN');
    expect(screen).toMatch(/^ › ✔ 2026-12-02 01:22:05  light  859 ms  exit 0  loop\.py$/m);
    expect(screen).toContain('over its 500 ms budget on Light: an auto run with that budget goes to Full next time');
    // Another terminal's `slime run` appends a record: it appears without a key, picked as the newest.
    record(t0 + 4000, 'full', 295.4, 2);
    screen = await term.waitFor(/^ › ✖ 2026-12-02 01:22:09  full   295 ms  exit 2  loop\.py$/m);
    expect(screen).toMatch(/^   ✔ 2026-12-02 01:22:05  light  859 ms  exit 0  loop\.py$/m);
    expect(screen).toContain('  > profile: learned: an earlier Light run took 859 ms, over the 500 ms budget');
    expect(term.colourOf('exit 2')).toBe('red');
    term.keys('Escape');
    await term.waitFor('TARGET');
    term.keys('q');
    await term.waitFor(/^EXIT=0$/m);
    await expectTerminalRestored(term);
  });

  it('follows the terminal when it is resized: the help line stays on the bottom line', async () => {
    const dir = tempDir('slime-tui-e2e-');
    term = new Tmux(120, 40, dir);
    let screen = await startApp(term, path.join(dir, 'store'));
    const help = '↑↓/jk select · Enter realize · s compare samples again · c rebuild & compare · r runs · q quit';
    // One line short of the screen, as a frame the screen's full height makes Ink clear it each time.
    expect(screen.split('\n').indexOf(help)).toBe(38);
    term.resize(100, 24);
    // Ink redraws in more than one write: wait for the whole frame, list and help line.
    screen = await term.waitFor((s) => s.split('\n').indexOf(help) === 22 && / › ○ good +not yet 0\/3/.test(s));
    expect(screen.split('\n').every((line) => line.length <= 100)).toBe(true);
    term.keys('q');
    await term.waitFor(/^EXIT=0$/m);
  });

  it('refuses to run without a terminal and says what to use instead', async () => {
    const r = await slime(['tui', '-f', FIXTURE, '--store', path.join(tempDir(), 'store')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('slime tui needs a terminal');
    expect(r.stderr).toContain('slime realize TARGET --log-format plain');
  });
});
