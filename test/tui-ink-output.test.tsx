/**
 * Ink's output, as slime patches it (patches/, applied by `npm ci`'s postinstall):
 * frames drawn with the patch are the frames unpatched Ink 6.8 drew.
 *
 * The patches make a frame several times cheaper (bench/tui-throughput.ts): a line of
 * printable ASCII skips the ANSI tokenizer and string-width, a run of chars in the same
 * style skips the style diff, the tokenized lines are kept from one frame to the next,
 * and a text's width comes from the layout's cached measurement. The
 * expected frames below were drawn by unpatched Ink 6.8.0 with
 * @alcalzone/ansi-tokenize 0.2.5; they cover plain, styled, nested and wide text,
 * truncation, and the same lines drawn again (from the kept cache).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';

// Colour support is decided when chalk is first imported: force it before Ink loads.
process.env['FORCE_COLOR'] = '1';
const { render } = await import('ink-testing-library');
const { Box, Text } = await import('ink');

function Frame({ n }: { n: number }) {
  return (
    <Box flexDirection="column" width={30}>
      <Text>{`plain ascii line ${n}`}</Text>
      <Text>
        a <Text bold>bold {n}</Text> <Text color="red" dimColor>red dim</Text> <Text color="green">green</Text>
      </Text>
      <Text color="yellow">{`yellow ${'='.repeat(n)} same style`}</Text>
      <Text>{`漢字 wide ✔ done 🚀 ${n}`}</Text>
      <Text wrap="truncate-end">{`truncated ${'x'.repeat(40)} ${n}`}</Text>
      <Text dimColor wrap="truncate-end">{`── dim header ${n} ──────────────────────────`}</Text>
      <Text> </Text>
      <Text>{`trailing spaces ${n}    `}</Text>
    </Box>
  );
}

function frames(): string[] {
  const app = render(<Frame n={1} />);
  const out = [app.lastFrame() ?? ''];
  for (const n of [2, 1, 3]) {
    app.rerender(<Frame n={n} />);
    out.push(app.lastFrame() ?? '');
  }
  app.unmount();
  return out;
}

if (process.env['SLIME_PRINT_INK_FRAMES'] === '1') console.log(JSON.stringify(frames()));

const FRAME_1 = [
  'plain ascii line 1',
  'a \x1b[1mbold 1\x1b[22m \x1b[31m\x1b[2mred dim\x1b[22m\x1b[39m \x1b[32mgreen\x1b[39m',
  '\x1b[33myellow = same style\x1b[39m',
  '漢字 wide ✔ done 🚀 1',
  'truncated xxxxxxxxxxxxxxxxxxx…',
  '\x1b[2m── dim header 1 ─────────────…\x1b[22m',
  '',
  'trailing spaces 1',
].join('\n');
const FRAME_2 = [
  'plain ascii line 2',
  'a \x1b[1mbold 2\x1b[22m \x1b[31m\x1b[2mred dim\x1b[22m\x1b[39m \x1b[32mgreen\x1b[39m',
  '\x1b[33myellow == same style\x1b[39m',
  '漢字 wide ✔ done 🚀 2',
  'truncated xxxxxxxxxxxxxxxxxxx…',
  '\x1b[2m── dim header 2 ─────────────…\x1b[22m',
  '',
  'trailing spaces 2',
].join('\n');
const FRAME_3 = [
  'plain ascii line 3',
  'a \x1b[1mbold 3\x1b[22m \x1b[31m\x1b[2mred dim\x1b[22m\x1b[39m \x1b[32mgreen\x1b[39m',
  '\x1b[33myellow === same style\x1b[39m',
  '漢字 wide ✔ done 🚀 3',
  'truncated xxxxxxxxxxxxxxxxxxx…',
  '\x1b[2m── dim header 3 ─────────────…\x1b[22m',
  '',
  'trailing spaces 3',
].join('\n');
/** The frames of n = 1, 2, 1 (its lines again, from the kept cache) and 3. */
const EXPECTED = [FRAME_1, FRAME_2, FRAME_1, FRAME_3];

describe("Ink's output with slime's patches", () => {
  it('draws the frames unpatched Ink drew', () => {
    expect(frames()).toEqual(EXPECTED);
  });

  it('draws the same frames after its caches turned over several times', () => {
    // The shared caches keep two generations of lines: thousands of new styled lines turn
    // them over, and what is drawn again afterwards comes out as it first did.
    const Many = ({ k }: { k: number }) => (
      <Box flexDirection="column" width={30}>
        {Array.from({ length: 8 }, (_, i) => (
          <Text key={i} color="cyan">{`line ${k}-${i} ✔ ${'·'.repeat(i)}`}</Text>
        ))}
      </Box>
    );
    const app = render(<Many k={0} />);
    const first = app.lastFrame();
    app.rerender(<Frame n={1} />);
    for (let k = 1; k <= 400; k++) app.rerender(<Many k={k} />);
    app.rerender(<Many k={0} />);
    const again = app.lastFrame();
    app.rerender(<Frame n={1} />);
    const frame1 = app.lastFrame();
    app.unmount();
    expect(again).toBe(first);
    expect(frame1).toBe(FRAME_1);
  });

  it('is applied to the installed Ink (setup ran patch-package)', () => {
    const require = createRequire(import.meta.url);
    const output = path.join(path.dirname(require.resolve('ink')), 'output.js');
    expect(fs.readFileSync(output, 'utf8')).toContain('sharedCaches()');
  });

  it("keeps its text measurements bounded: a live view's new texts do not pile up", async () => {
    // Ink measures every text it lays out and kept each measurement for the life of the
    // process: a log pane draws new lines every frame (1,222 texts after a minute of the
    // synthetic run). 100,000 texts of 200 characters are 20 MB that must not stay.
    const require = createRequire(import.meta.url);
    const file = path.join(path.dirname(require.resolve('ink')), 'measure-text.js');
    const measureText = (await import(pathToFileURL(file).href)).default as (text: string) => { width: number; height: number };
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) {
      const text = `${i} `.padEnd(200, 'x');
      expect(measureText(text)).toEqual({ width: 200, height: 1 });
    }
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 << 20);
    // Measured again after the cache started over: the same answer.
    expect(measureText('a\nbcd')).toEqual({ width: 3, height: 2 });
    expect(measureText('漢字')).toEqual({ width: 4, height: 1 });
  });
});
