/**
 * `slime realize` on a real terminal (tmux, 120x40): what a person sees once a run
 * with a failure and a sample comparison has ended. The build is a small graph of shell
 * derivations (test/fixtures/tui/demo.ts) in a fresh store.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from './support/cli.js';
import { Tmux } from './fixtures/tui/tmux.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/tui/demo.ts');

// Each test drives a real terminal through a whole run: minutes, not seconds, on a loaded machine.
describe('slime realize in a terminal', { timeout: 600_000 }, () => {
  let term: Tmux | undefined;
  afterEach(() => {
    term?.kill();
    term = undefined;
  });

  it("ends with the tree, the failure list, the failed log, the summary and the sample comparison's results", async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = path.join(dir, 'store');
    term = new Tmux(120, 40, dir);
    term.type(`node ${CLI} realize demo -k -f ${FIXTURE} --store ${store} --no-link; echo EXIT=$?`, true);
    const screen = await term.waitFor(/EXIT=\d+/);

    expect(screen).toContain('EXIT=100');
    // The tree: every derivation with its state symbol, what it came to, in tree order.
    expect(screen).toMatch(/ ✔ checks +\d+\.\ds +3\/3 bit-exact\n ✔ ├─ greeting +\d+\.\ds\n ✔ └─ compiler +\d+\.\ds\n ⊘ after +dependency failed\n.✖ └─ broken +\d+\.\ds +builder exited with code 3\n/);
    // The failure list names the derivation, how it ended and where its log is.
    // A line too long for the terminal is cut in its middle: the name and the log file stay.
    expect(screen).toMatch(/✖ 1 failed\n  broken  builder exited with code 3  \/tmp\/slime-tui-e2e-\S*…\S*-broken\.drv\.log\n/);
    // The failed build's own last words.
    expect(screen).toMatch(/── log of broken · 2 lines ──\ncompiling broken\.c\nbroken\.c:3: error: expected ';'\n/);
    expect(screen).toMatch(/✖ Failed after \d+\.\ds: 3 built, 0 cached, 0 substituted, 1 failed, 1 skipped\n/);
    expect(screen).toMatch(/Sample comparison of checks  3\/3 bit-exact\n  PASS  01_hello +basics +6 B  5891b5b522d5\n  PASS  02_dicts +builtins +6 B  5891b5b522d5\n  PASS  03_unicode +text +6 B  5891b5b522d5\n/);

    // Colour carries the same meaning everywhere: green done, red failed, grey skipped.
    expect(term.colourOf('✔ checks')).toBe('green');
    expect(term.colourOf('⊘ after')).toBe('gray');
    expect(term.colourOf('✖ └─ broken')).toBe('red');
    expect(term.colourOf('✖ Failed after')).toBe('red');
    expect(term.colourOf('PASS  01_hello')).toBe('green');
  });

  it('leaves results taller than the terminal readable in the scrollback, and the lines after them on their own', async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = path.join(dir, 'store');
    term = new Tmux(120, 20, dir);
    const command = `node ${CLI} realize many -f ${FIXTURE} --store ${store} --no-link; echo EXIT=$?`;
    term.type(command, true);
    await term.waitFor(/EXIT=\d+/);
    const scrollback = term.scrollback(200);

    // Nothing above the run was cleared away: the command that started it is still there.
    expect(scrollback).toContain(`e2e$ ${command}`);
    expect(scrollback).toMatch(/ ✔ many-checks +\d+\.\ds +67\/67 bit-exact\n ✔ └─ greeting +\d+\.\ds\n/);
    const results = scrollback.slice(scrollback.indexOf('Sample comparison of many-checks  67/67 bit-exact\n'));
    const categories = ['any', 'dynamic', 'realworld', 'errors'];
    for (let i = 1; i <= 67; i++) {
      const name = `${String(i).padStart(2, '0')}_sample`;
      expect(results).toMatch(new RegExp(`\n  PASS  ${name} +${categories[(i - 1) % 4]} +6 B  5891b5b522d5\n`));
    }
    // The summary comes last, and what slime prints after the view starts on a line of its own.
    expect(results).toMatch(/  PASS  67_sample .*\n✔ Done in \d+\.\ds: 2 built, 0 cached, 0 substituted, 0 failed\n67\/67 bit-exact \(report: \S+\/report\.json\)\n\S+-many-checks\nEXIT=0\n/);
  });

  it('shows a second run of the same graph as cached, with nothing failed (slime as installed: the bundle and its own Ink)', async () => {
    const dir = tempDir('slime-tui-e2e-');
    const store = path.join(dir, 'store');
    term = new Tmux(120, 40, dir);
    // bin/slime, as package.json's bin runs it, with NODE_ENV unset as in a user's shell: Ink from dist/bin/ink.js.
    const slime = `env -u NODE_ENV ${path.join(ROOT, 'bin', 'slime')}`;
    term.type(`${slime} realize good -f ${FIXTURE} --store ${store} --no-link; echo FIRST=$?`, true);
    await term.waitFor(/FIRST=0/);
    term.type('clear', true);
    term.type(`${slime} realize good -f ${FIXTURE} --store ${store} --no-link; echo SECOND=$?`, true);
    const screen = await term.waitFor(/SECOND=\d+/);
    expect(screen).toContain('SECOND=0');
    expect(screen).toMatch(/ ≡ checks +3\/3 bit-exact\n ≡ ├─ greeting\n ≡ └─ compiler\n/);
    expect(screen).toMatch(/✔ Done in \d+\.\ds: 0 built, 3 cached, 0 substituted, 0 failed\n/);
    expect(screen).not.toContain('✖');
    expect(term.colourOf('≡ checks')).toBe('gray');
  });
});
