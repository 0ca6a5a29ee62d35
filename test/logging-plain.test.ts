import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { jsonLogger } from '../src/logging/json.js';
import { FAILURE_TAIL_LINES, plainLogger } from '../src/logging/plain.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';

const T0 = 1_700_000_000_000;
const MiB = 2 ** 20;
const quick = p('cpython-3.11.2-quick');
const pgo = p('cpython-3.11.2-pgo');
const tarball = p('Python-3.11.2.tar.xz');

function run(events: SlimeEvent[], verbose = false): string {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const sink = plainLogger(out, { verbose });
  for (const e of events) sink.emit(e);
  return Buffer.concat(chunks).toString('utf8');
}

const failingRun: SlimeEvent[] = [
  plannedEvent(T0),
  { type: 'started', time: T0, drvPath: tarball, action: 'fetch' },
  { type: 'progress', time: T0 + 100, drvPath: tarball, direction: 'download', bytes: 20 * 2 ** 20, total: 20 * 2 ** 20, bytesPerSecond: 2 ** 22 },
  { type: 'built', time: T0 + 5_000, drvPath: tarball, outputs: {}, durationMs: 5_000 },
  { type: 'started', time: T0 + 5_000, drvPath: quick, action: 'build', logPath: '/logs/quick.log' },
  { type: 'phase', time: T0 + 5_100, drvPath: quick, phase: 'configure' },
  { type: 'log', time: T0 + 5_200, drvPath: quick, stream: 'stdout', line: '\x1b[32mchecking for gcc... gcc\x1b[0m' },
  { type: 'phase', time: T0 + 6_000, drvPath: quick, phase: 'profile', done: 1, total: 44 },
  { type: 'phase', time: T0 + 6_100, drvPath: quick, phase: 'profile', done: 2, total: 44 },
  { type: 'started', time: T0 + 5_000, drvPath: pgo, action: 'build', logPath: '/logs/pgo.log' },
  { type: 'phase', time: T0 + 5_100, drvPath: pgo, phase: 'make' },
  ...Array.from({ length: 100 }, (_, i): SlimeEvent => ({ type: 'log', time: T0 + 6_000, drvPath: pgo, stream: 'stderr', line: `cc line ${i}\r` })),
  { type: 'failed', time: T0 + 17_300, drvPath: pgo, reason: { kind: 'exit', exitCode: 2, signal: null }, logPath: '/logs/pgo.log' },
  { type: 'skipped', time: T0 + 17_300, drvPath: p('isolate'), becauseOf: pgo },
  { type: 'built', time: T0 + 65_000, drvPath: quick, outputs: {}, durationMs: 60_000 },
  { type: 'finished', time: T0 + 65_000, built: 2, cached: 1, substituted: 0, failed: 1, skipped: 2, wallMs: 65_000 },
];

describe('plainLogger', () => {
  it('says a derivation was already valid when verbose only, and counts the plan from the planned event', () => {
    const valid: SlimeEvent[] = [
      plannedEvent(T0),
      { type: 'cached', time: T0 + 1, drvPath: p('python3.11'), outputs: {} },
      { type: 'finished', time: T0 + 2, built: 0, cached: 1, substituted: 0, failed: 0, skipped: 0, wallMs: 2 },
    ];
    expect(run(valid).split('\n')).toEqual([
      'slime: 7 derivations for isolate-verify: 6 to do, 1 already valid',
      'slime: 0 built, 1 cached, 0 substituted in 0.0s',
      '',
    ]);
    expect(run(valid, true).split('\n')).toEqual([
      'slime: 7 derivations for isolate-verify: 6 to do, 1 already valid',
      '[python3.11] already valid',
      'slime: 0 built, 1 cached, 0 substituted in 0.0s',
      '',
    ]);
    // One the plan did not name is said by its path.
    const other = p('elsewhere');
    expect(run([{ type: 'cached', time: T0, drvPath: other, outputs: {} }], true)).toBe(`[${other}] already valid\n`);
  });

  it('names a target given by its .drv path, and the builds of a second run after a no-op (a gc raced the first)', () => {
    const planned = { ...plannedEvent(T0), targets: [p('isolate-verify')] } as SlimeEvent;
    const lines = run([
      planned,
      { type: 'finished', time: T0 + 1, built: 0, cached: 7, substituted: 0, failed: 0, skipped: 0, wallMs: 1 },
      { type: 'message', time: T0 + 2, level: 'note', message: 'again' },
      { ...planned, time: T0 + 3 },
      { type: 'started', time: T0 + 4, drvPath: quick, action: 'build' },
      { type: 'built', time: T0 + 5, drvPath: quick, outputs: {}, durationMs: 1_000 },
      { type: 'skipped', time: T0 + 5, drvPath: p('isolate'), becauseOf: pgo },
    ]).split('\n');
    expect(lines).toEqual([
      'slime: 7 derivations for isolate-verify: 6 to do, 1 already valid',
      'slime: 0 built, 7 cached, 0 substituted in 0.0s',
      'note: again',
      'slime: 7 derivations for isolate-verify: 6 to do, 1 already valid',
      '[cpython-3.11.2-quick] building',
      '[cpython-3.11.2-quick] built in 1.0s',
      '[isolate] skipped: cpython-3.11.2-pgo failed',
      '',
    ]);
  });

  it('prints prefixed start, phase, finish and failure lines and a summary', () => {
    const lines = run(failingRun).split('\n');
    expect(lines[0]).toBe('slime: 7 derivations for isolate-verify: 6 to do, 1 already valid');
    expect(lines).toContain('[Python-3.11.2.tar.xz] fetching');
    expect(lines).toContain('[Python-3.11.2.tar.xz] fetched in 5.0s, 20.0 MiB');
    expect(lines).toContain('[cpython-3.11.2-quick] building (log: /logs/quick.log)');
    expect(lines).toContain('[cpython-3.11.2-quick] configure');
    // A phase's counter ticking is not news; entering the phase is.
    expect(lines.filter((l) => l.includes('profile'))).toEqual(['[cpython-3.11.2-quick] profile']);
    expect(lines).toContain('[cpython-3.11.2-pgo] FAILED (builder exited with code 2) in make after 12s');
    expect(lines).toContain('[cpython-3.11.2-pgo] full log: /logs/pgo.log');
    expect(lines).toContain('[isolate] skipped: cpython-3.11.2-pgo failed');
    expect(lines).toContain('[cpython-3.11.2-quick] built in 1m00s');
    expect(lines.at(-2)).toBe('slime: 2 built, 1 cached, 0 substituted, 1 failed, 2 skipped in 1m05s');
  });

  it('shows only the tail of a failed build, not the output of successful ones', () => {
    const out = run(failingRun);
    const tail = out.split('\n').filter((l) => l.startsWith('[cpython-3.11.2-pgo] | '));
    expect(tail).toHaveLength(FAILURE_TAIL_LINES);
    expect(tail.at(-1)).toBe('[cpython-3.11.2-pgo] | cc line 99');
    expect(out).not.toContain('checking for gcc');
  });

  it('echoes every line when verbose', () => {
    const out = run(failingRun, true);
    expect(out).toContain('[cpython-3.11.2-quick] checking for gcc... gcc\n');
    expect(out.split('\n').filter((l) => l.startsWith('[cpython-3.11.2-pgo] cc line'))).toHaveLength(100);
  });

  it('says a sample comparison "compared", never "verified" (`slime verify` is the store\'s check)', () => {
    const cmp = p('isolate-verify');
    const report = { samples: [] } as unknown as Extract<SlimeEvent, { type: 'verified' }>['report'];
    const events: SlimeEvent[] = [
      plannedEvent(T0),
      { type: 'started', time: T0, drvPath: cmp, action: 'build', logPath: '/logs/v.log' },
      { type: 'verified', time: T0 + 1_000, drvPath: cmp, passed: 67, total: 68, reportPath: '/r/report.json', report },
      { type: 'verified', time: T0 + 2_000, drvPath: cmp, passed: 68, total: 68, reportPath: '/r/report.json', report },
    ];
    const lines = run(events).split('\n');
    expect(lines).toContain('[isolate-verify] compared 67/68 (report: /r/report.json)');
    expect(lines).toContain('[isolate-verify] compared 68/68 bit-exact (report: /r/report.json)');
    expect(lines.filter((l) => /verif/i.test(l.replace(/isolate-verify/g, '')))).toEqual([]);
  });

  it('never writes an escape or carriage return, even when the build does', () => {
    for (const verbose of [false, true]) {
      const out = run(failingRun, verbose);
      expect(out).not.toMatch(/[\x1b\r]/);
    }
  });
});

describe('plainLogger progress', () => {
  it('reports a long download every 10 s, and a short one not at all', () => {
    const tick = (ms: number, bytes: number): SlimeEvent => ({ type: 'progress', time: T0 + ms, drvPath: tarball, direction: 'download', bytes, total: 100 * MiB, bytesPerSecond: 2 * MiB });
    const lines = run([plannedEvent(T0), ...[0, 4_000, 9_000, 10_500, 15_000, 21_000].map((ms, i) => tick(ms, (i + 1) * 10 * MiB))])
      .split('\n')
      .filter((l) => l.includes('↓'));
    expect(lines).toEqual(['[Python-3.11.2.tar.xz] ↓ 40.0 MiB/100.0 MiB 2.0 MiB/s, ETA 30s', '[Python-3.11.2.tar.xz] ↓ 60.0 MiB/100.0 MiB 2.0 MiB/s, ETA 20s']);
    expect(run([plannedEvent(T0), tick(0, MiB), tick(2_000, 2 * MiB)])).not.toContain('↓');
  });
});

describe('close', () => {
  /** Takes each write 5 ms later, as a slow pipe would. */
  class SlowPipe extends Writable {
    received = '';
    override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
      setTimeout(() => {
        this.received += chunk.toString();
        done();
      }, 5);
    }
  }

  it('resolves only once everything written has gone through', async () => {
    for (const make of [(o: SlowPipe) => plainLogger(o), (o: SlowPipe) => jsonLogger(o)]) {
      const pipe = new SlowPipe();
      const sink = make(pipe);
      for (const e of failingRun) sink.emit(e);
      await sink.close?.();
      expect(pipe.received).toMatch(/(slime: 2 built|"type":"finished").*\n$/);
    }
  });
});

describe('jsonLogger', () => {
  it('writes exactly the events, one per line, once closed', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const sink = jsonLogger(out);
    for (const e of failingRun) sink.emit(e);
    // The lines of one event-loop turn go out in one write: close() flushes them.
    await sink.close?.();
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(failingRun);
  });
});

describe('logger start-up', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

  /** Every bare package a module reaches through its relative imports. */
  function packagesReachedFrom(entry: string): Set<string> {
    const packages = new Set<string>();
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, fromSpec, dynamicSpec] of source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (fromSpec ?? dynamicSpec)!;
        if (!spec.startsWith('.')) {
          packages.add(spec);
          continue;
        }
        const base = resolve(dirname(file), spec.replace(/\.js$/, ''));
        walk(existsSync(`${base}.ts`) ? `${base}.ts` : `${base}.tsx`);
      }
    };
    walk(entry);
    return packages;
  }

  it('keeps ink and react out of the plain and json loggers', () => {
    for (const entry of ['src/logging/plain.ts', 'src/logging/json.ts']) {
      const reached = [...packagesReachedFrom(resolve(root, entry))];
      expect(reached.filter((pkg) => /^(ink|react)(\/|$|-)/.test(pkg))).toEqual([]);
    }
    // The walk itself must see through to the modules it claims to check.
    expect(packagesReachedFrom(resolve(root, 'tui/realize-view.tsx')).has('ink')).toBe(true);
  });
});
