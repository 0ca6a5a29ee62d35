/**
 * The store owns validity and depends on nothing above it: src/store/ imports only
 * itself, src/nar/, src/hash/, src/errors.ts and packages. (Layers: cli -> scheduler ->
 * builder -> store -> nar/hash.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const ALLOWED = /^(\.\/|\.\.\/(nar|hash)\/|\.\.\/errors\.js$|node:|[a-z@])/;

describe('src/store/ layering', () => {
  it('imports nothing from builder/, scheduler/, derivation/, cli/ or the TUI', () => {
    const dir = path.join(ROOT, 'src/store');
    const wrong: string[] = [];
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of text.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        if (!ALLOWED.test(m[1])) wrong.push(`${f}: ${m[1]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('only src/store/ registers or forgets paths', () => {
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.tsx?$/.test(e.name) && !p.includes(`${path.sep}store${path.sep}`)) {
          if (/\.(register|invalidate)\(|\.db\.(register|forget)\(/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
        }
      }
    };
    walk(path.join(ROOT, 'src'));
    walk(path.join(ROOT, 'tui'));
    expect(offenders).toEqual([]);
  });
});
