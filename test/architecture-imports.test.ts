/**
 * The walls of docs/architecture.md, checked: every import in src/ and tui/ (static,
 * re-export, dynamic, type-only alike) goes down the layers or stays in its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

type Layer =
  | 'foundation'
  | 'hash'
  | 'formats'
  | 'fetch'
  | 'store'
  | 'derivation'
  | 'cache'
  | 'builder'
  | 'scheduler'
  | 'check'
  | 'router'
  | 'logging'
  | 'tui'
  | 'commands';

/** Lower ranks are lower layers; consumers (logging, tui) stand apart. */
const RANK: Record<Exclude<Layer, 'logging' | 'tui'>, number> = {
  foundation: 0,
  hash: 1,
  formats: 2,
  fetch: 3,
  store: 4,
  derivation: 5,
  cache: 5.5,
  builder: 6,
  scheduler: 7,
  check: 8,
  router: 8,
  commands: 9,
};

function layerOf(rel: string): Layer {
  if (rel.startsWith('tui/')) return 'tui';
  const [, top, file] = rel.split('/');
  if (['errors.ts', 'events.ts', 'suggest.ts'].includes(top!) || top === 'run' || top === 'comparison') return 'foundation';
  if (top === 'derivation' && file === 'aterm.ts') return 'formats';
  if (top === 'nar') return 'formats';
  if (top === 'cli' || top === 'bench' || top === 'setup') return 'commands';
  if (['hash', 'fetch', 'store', 'derivation', 'cache', 'builder', 'scheduler', 'check', 'router', 'logging'].includes(top!)) return top as Layer;
  throw new Error(`${rel}: no layer; add its directory to docs/architecture.md and to this test`);
}

/**
 * Walls crossed the wrong way today, each being removed by another change. Reported to
 * the lead; an entry that no longer matches anything is simply unused.
 */
const ALLOWED: readonly { from: string; to: string; why: string }[] = [
  // None left: the store owns validity (src/store/add-path.ts) and repair is in src/scheduler/repair.ts.
];

interface Import {
  from: string;
  to: string;
  dynamic: boolean;
  /** `import type`: erased when compiled, loads nothing. */
  typeOnly?: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

export function importsOf(rel: string): Import[] {
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const found: Import[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s([^'";]*?)from\s+['"]([^'"]+)['"]|(?:^|[;\s])import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[2] ?? m[3] ?? m[4]!;
    if (!spec.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '');
    const resolved = ['.ts', '.tsx'].map((x) => target + x).find((f) => fs.existsSync(path.join(ROOT, f)));
    const typeOnly = m[1] !== undefined && /^type\s/.test(m[1]);
    found.push({ from: rel, to: resolved ?? target, dynamic: m[4] !== undefined, ...(typeOnly ? { typeOnly } : {}) });
  }
  return found;
}

function crossesWall(i: Import): string | undefined {
  const a = layerOf(i.from);
  const b = layerOf(i.to);
  if (a === b) return undefined;
  // The CLI loads the TUI on demand; a type (the app's Backend port) loads nothing.
  if (b === 'tui') return a === 'commands' && (i.dynamic || i.typeOnly) ? undefined : `${a} imports the TUI${a === 'commands' ? ' statically (use import())' : ''}`;
  if (a === 'logging' || a === 'tui') return b === 'foundation' ? undefined : `${a} consumes events and may import only the foundation, not ${b}`;
  if (b === 'logging') return a === 'commands' ? undefined : `${a} imports a logger`;
  return RANK[b] < RANK[a] || (RANK[a] === 0 && RANK[b] === 0) ? undefined : `${a} imports ${b}, a layer above it`;
}

describe('architecture: imports go down the layers', () => {
  const files = [...sources('src'), ...sources('tui')];
  const imports = files.flatMap(importsOf);

  it('finds the imports it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: 'src/logging/plain.ts', to: 'src/run/state.ts', dynamic: false });
    expect(imports).toContainEqual({ from: 'src/cli/commands/realize.ts', to: 'tui/realize-view.tsx', dynamic: true });
  });

  it('no import crosses a wall the wrong way, but the listed known ones', () => {
    const wrong = imports
      .map((i) => ({ ...i, why: crossesWall(i) }))
      .filter((i) => i.why !== undefined && !ALLOWED.some((a) => a.from === i.from && a.to === i.to))
      .map((i) => `${i.from} -> ${i.to}: ${i.why}`);
    expect(wrong).toEqual([]);
  });

  it('catches a wrong-way import (the check can fail)', () => {
    expect(crossesWall({ from: 'src/logging/plain.ts', to: 'tui/state.ts', dynamic: false })).toMatch(/TUI/);
    expect(crossesWall({ from: 'src/store/gc.ts', to: 'src/scheduler/scheduler.ts', dynamic: false })).toMatch(/layer above/);
    expect(crossesWall({ from: 'tui/view-model.ts', to: 'src/store/store.ts', dynamic: false })).toMatch(/only the foundation/);
    expect(crossesWall({ from: 'src/cli/commands/realize.ts', to: 'tui/realize-view.tsx', dynamic: false })).toMatch(/statically/);
  });
});
