/**
 * A text the TUI cuts to the terminal's width says that it was cut (`…`), so a
 * reader never takes the part for the whole: the targets screen's title, the picked
 * target's header and reproducibility line, and an error, on a narrow terminal.
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { TargetsScreen } from '../tui/app/TargetsScreen.js';
import type { TargetInfo } from '../tui/app/backend.js';

const target: TargetInfo = {
  name: 'full-x86_64-quick',
  description: 'the quick static CPython 3.11.2 and the isolate, compared with python3.11 sample by sample',
  state: 'realized',
  valid: 14,
  total: 14,
  comparesSamples: false,
  checked: { verdict: 'equal', summary: 'yes: every derivation rebuilt bit for bit in 1 round (14 of 14, 2 declared nondeterministic)' },
};

function frame(props: Partial<Parameters<typeof TargetsScreen>[0]>): string[] {
  const r = render(
    <TargetsScreen
      title="slime tui — derivations/index.ts, store /a/long/path/to/the/store/of/this/machine"
      targets={[target]}
      selected={0}
      runMarks={{}}
      context={{ running: false, hasRun: false, comparesSamples: false }}
      width={40}
      height={16}
      onCommand={() => undefined}
      {...props}
    />,
  );
  const lines = (r.lastFrame() ?? '').split('\n');
  r.unmount();
  return lines;
}

describe('texts cut to the width', () => {
  it('end with an ellipsis: the title, the detail header, the reproducibility line', () => {
    const lines = frame({});
    expect(lines[0]).toBe('slime tui — derivations/index.ts, store…');
    expect(lines.find((l) => l.startsWith('── full-x86_64-quick'))).toBe('── full-x86_64-quick: the quick static …');
    expect(lines.find((l) => l.startsWith('Reproducible?'))).toBe('Reproducible? yes: every derivation reb…');
    expect(lines.every((l) => [...l].length <= 40)).toBe(true);
  });

  it('end with an ellipsis: a load error', () => {
    const lines = frame({ targets: undefined, loadError: 'cannot read derivations/index.ts: EACCES (permission denied)' });
    expect(lines[1]).toBe('error: cannot read derivations/index.ts…');
  });
});
