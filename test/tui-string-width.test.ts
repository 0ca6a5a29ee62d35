/**
 * string-width as slime patches it (patches/string-width+8.3.0.patch): Ink measures every
 * text with it, and it built Unicode's RGI emoji set (~20 ms in Node 20's V8, as long again
 * to compile on its first test) when it was loaded, at every start of the TUI. Patched, it
 * builds the set on first use, and only for a cluster that can be an emoji: one of several
 * code points, or one code point with Emoji_Presentation. Widths stay what they were.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

describe('string-width, patched', () => {
  it('takes a single code point for an RGI emoji only when it has Emoji_Presentation: so for every code point', () => {
    const rgi = new RegExp('^\\p{RGI_Emoji}$', 'v');
    const presentation = /\p{Emoji_Presentation}/u;
    const missed: string[] = [];
    let emoji = 0;
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const s = String.fromCodePoint(c);
      if (!rgi.test(s)) continue;
      emoji++;
      if (!presentation.test(s)) missed.push(c.toString(16));
    }
    expect(missed).toEqual([]);
    // Unicode 15's basic emoji of one code point, as this Node's ICU has them: the check above checked something.
    expect(emoji).toBeGreaterThan(1000);
  });

  it('measures as before: emoji of one and of several code points, text and glyphs without', () => {
    const cases: [string, number][] = [
      ['hello', 5],
      ['├─ cpython-3.11.2 ✔ ⠋ ░▒', 24],
      ['😀', 2],
      ['✔', 1],
      ['✔\u{FE0F}', 2],
      ['🇯🇵', 2],
      ['1\u{FE0F}\u{20E3}', 2],
      ['👩\u{200D}👩\u{200D}👧', 2],
      ['👍🏽', 2],
      ['漢字', 4],
      ['e\u{301}', 1],
    ];
    expect(cases.map(([s]) => stringWidth(s))).toEqual(cases.map(([, w]) => w));
  });

  it('is built into the bundle (dist/bin/ink.js) so: drawing the TUI\'s glyphs builds no RGI emoji set, an emoji builds it once', () => {
    // As the launcher runs ink.js (src/cli/launch.ts), with RegExp wrapped to count the set's builds.
    const script = `
      const vm = require('node:vm'); const fs = require('node:fs'); const { createRequire } = require('node:module');
      const file = ${JSON.stringify(path.join(ROOT, 'dist/bin/ink.js'))};
      let builds = 0;
      const Native = RegExp;
      globalThis.RegExp = new Proxy(Native, { construct(target, args) { if (String(args[0]).includes('RGI_Emoji')) builds++; return Reflect.construct(target, args); } });
      const ink = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file }).runInThisContext();
      const req = createRequire(file);
      ink(req, 'file://' + file, (s) => import(s)).then(({ renderToString, Text, Box }) => {
        const React = req('react');
        const h = React.createElement;
        const frame = renderToString(h(Box, { flexDirection: 'column' }, h(Text, null, '├─ cpython-3.11.2 ✔ ⠋'), h(Text, null, '└─ isolate ░▒▓ → ·')));
        const before = builds;
        renderToString(h(Text, null, 'done 😀'));
        console.log(JSON.stringify({ frame, before, after: builds }));
      });
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { frame: string; before: number; after: number };
    expect(out.frame).toContain('├─ cpython-3.11.2 ✔ ⠋');
    expect(out.before).toBe(0);
    expect(out.after).toBe(1);
  });
});
