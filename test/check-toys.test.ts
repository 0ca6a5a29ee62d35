/**
 * `slime check` on toy derivations that are not deterministic in different ways, each
 * really built twice by the real builder: the report names every differing file with
 * the right kind of difference, exits 104, and leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRoot } from '../src/builder/build-dir.js';
import type { SlimeEvent } from '../src/events.js';
import { collect, slime, startSlime, storePaths, tempDir, writeModule } from './support/cli.js';

const TOOLS = ['sh', 'od', 'tr', 'touch', 'date', 'tar', 'gcc', 'as', 'ld', 'ar', 'python3', 'mkdir', 'echo', 'cut', 'cat', 'sleep'];

/**
 * Each toy writes what differs between runs from `date +%N` (nanoseconds) or
 * /dev/urandom: equal twice in a row with odds below one in a million.
 */
function toys(dir: string): string {
  return writeModule(
    dir,
    'toys.ts',
    `const sh = (name: string, script: string, extra: Record<string, unknown> = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-ec', script], tools: ${JSON.stringify(TOOLS)}, ...extra });

export const stable = sh('stable', 'mkdir $out; echo hello > $out/hello.txt; echo "#!/bin/sh" > $out/run; chmod +x $out/run 2>/dev/null || true');

export const randomText = sh('random-text', 'mkdir $out; echo "same line" > $out/notes.txt; echo "lucky number $(od -An -N8 -tu8 /dev/urandom | tr -d " ")" >> $out/notes.txt; echo "same end" >> $out/notes.txt');

export const tarTime = sh('tar-time', 'mkdir $out d; echo payload > d/data; touch -d "@$(date +%N)" d/data; touch -d @1 d; tar -cf $out/bundle.tar d');

export const elfSection = sh('elf-section', [
  'mkdir $out',
  'echo "$csrc" > p.c',
  'gcc -O1 -DRV=1$(date +%N) -c p.c -o p.o', // the leading 1: a %N like 089… would be a bad octal literal
  'gcc p.o -o $out/prog',
  'ar rcD $out/libp.a p.o',
].join('; '), { env: { csrc: '__attribute__((section(".slime_random"), used)) static const unsigned long r = RV; int main(void) { return 0; }' } });

export const pycHeader = sh('pyc-header', [
  'mkdir $out',
  'echo "x = 1" > m.py',
  'touch -d "@$(date +%N)" m.py',
  'python3 -c "$pysrc"',
].join('; '), { env: { pysrc: 'import os, py_compile; py_compile.compile("m.py", cfile=os.environ["out"] + "/m.pyc", invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)' } });

export const declared = sh('declared-random', 'od -An -N8 -tu8 /dev/urandom > $out', { nondeterministic: 'a toy: writes a random number on purpose' });

export const slow = sh('slow', 'echo begun; sleep 15; echo x > $out');

export const targets = [
  target('nondeterministic', 'four ways to differ', [randomText, tarTime, elfSection, pycHeader]),
  target('deterministic', 'the same bytes every time', [stable]),
  target('declared', 'differs, and says so', [declared, stable]),
];
`,
  );
}

const leftovers = (store: string) => ({
  tmp: fs.readdirSync(path.join(store, '.slime/tmp')),
  checks: storePaths(store).filter((p) => p.endsWith('.check')),
});

function buildDirsOf(store: string): string[] {
  const names = storePaths(store).filter((p) => p.endsWith('.drv')).map((p) => p.slice(0, -4));
  return names.filter((n) => fs.existsSync(path.join(buildRoot(), n)) || fs.existsSync(path.join(buildRoot(), `${n}.tools`)));
}

describe('slime check', () => {
  it('exits 104 and names each differing file with its kind of difference', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'nondeterministic', '-f', file, '--store', store, '--json', '--log-format', 'json'], { cwd: dir });
    expect(r.stderr).toContain('slime check: ');
    expect(r.code).toBe(104);
    const records = JSON.parse(r.stdout) as { name: string; verdict: string; outputs: { out: { differences: Record<string, unknown>[] } } }[];
    const byName = Object.fromEntries(records.map((x) => [x.name, x]));
    for (const n of ['random-text', 'tar-time', 'elf-section', 'pyc-header']) expect(byName[n].verdict).toBe('differs');

    const text = byName['random-text'].outputs.out.differences;
    expect(text).toEqual([expect.objectContaining({ path: 'notes.txt', kind: 'content', format: 'text' })]);
    // In the number: two random numbers may share leading digits.
    expect(text[0].firstOffset).toBeGreaterThanOrEqual('same line\nlucky number '.length);
    expect(text[0].firstOffset).toBeLessThan('same line\nlucky number '.length + 20);
    expect(text[0].diff).toMatch(/^--- stored\/notes\.txt\n\+\+\+ rebuilt\/notes\.txt\n@@ .* @@\n same line\n-lucky number \d+\n\+lucky number \d+\n same end$/);

    const tar = byName['tar-time'].outputs.out.differences;
    expect(tar).toEqual([expect.objectContaining({ path: 'bundle.tar', format: 'tar' })]);
    expect(tar[0].tar).toEqual([expect.objectContaining({ name: 'd/data', change: 'header', fields: [expect.stringMatching(/^mtime: \d+ -> \d+$/)] })]);
    // The first differing byte is in the member header's mtime field (header offset 136).
    expect(tar[0].firstOffset).toBeGreaterThanOrEqual(512 + 136);
    expect(tar[0].firstOffset).toBeLessThan(512 + 148);

    const elf = byName['elf-section'].outputs.out.differences;
    expect(elf.map((d) => [d.path, d.format])).toEqual([['libp.a', 'ar'], ['prog', 'elf']]);
    const progSections = (elf[1].elf as { sections: { name: string }[] }).sections.map((s) => s.name);
    expect(progSections).toContain('.slime_random');
    const member = (elf[0].members as { name: string; elf?: { sections: { name: string }[] } }[]);
    expect(member).toEqual([expect.objectContaining({ name: 'p.o', change: 'content' })]);
    expect(member[0].elf!.sections.map((s) => s.name)).toEqual(['.slime_random']);

    const pyc = byName['pyc-header'].outputs.out.differences;
    expect(pyc).toEqual([expect.objectContaining({ path: 'm.pyc', format: 'pyc', firstOffset: 8, pyc: { fields: ['mtime'] } })]);

    // The events: a check-started per rebuild and a checked per derivation, with the files.
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SlimeEvent);
    expect(events.filter((e) => e.type === 'check-started')).toHaveLength(4);
    const checked = events.filter((e): e is Extract<SlimeEvent, { type: 'checked' }> => e.type === 'checked');
    expect(checked.map((e) => e.verdict)).toEqual(['differs', 'differs', 'differs', 'differs']);
    expect(checked.find((e) => e.outputs.out.path.endsWith('-pyc-header'))!.outputs.out.differences![0]).toMatchObject({ path: 'm.pyc' });

    expect(leftovers(store)).toEqual({ tmp: [], checks: [] });
    expect(buildDirsOf(store)).toEqual([]);

    // The human report names the same things.
    const plain = await slime(['check', 'nondeterministic', '-f', file, '--store', store], { cwd: dir });
    expect(plain.code).toBe(104);
    expect(plain.stdout).toMatch(/random-text: DIFFERS \(1 round: .*\)/);
    expect(plain.stdout).toMatch(/notes\.txt: text, \d+ (-> \d+ )?bytes, first difference at byte [234]\d \(0x/);
    expect(plain.stdout).toMatch(/bundle\.tar: tar, 10240 bytes, .*\n\s+member d\/data: mtime: \d+ -> \d+/);
    expect(plain.stdout).toMatch(/prog: elf, .*\n\s+sections .*\.slime_random \(at \+0x/);
    expect(plain.stdout).toMatch(/libp\.a: ar, .*\n\s+members: p\.o \(sections \.slime_random/);
    expect(plain.stdout).toMatch(/m\.pyc: pyc, .*\n\s+header fields: mtime\n/);
    expect(plain.stderr).toMatch(/\[elf-section\] check: differs \(2 files\)/);
  }, 240_000);

  it('exits 0 when every rebuild is equal, for --rounds N, and records the check', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'deterministic', '-f', file, '--store', store, '--rounds', '3'], { cwd: dir });
    expect(r.stderr).toContain('slime check: 1 derivation: 1 equal');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stable: equal \(3 rounds: [^,]+, [^,]+, [^,]+\)\n$/);
    const targets = await slime(['targets', '-f', file, '--store', store, '--json'], { cwd: dir });
    const states = JSON.parse(targets.stdout) as { name: string; check?: { verdict: string; rounds: number; checked: number } }[];
    expect(states.find((s) => s.name === 'deterministic')!.check).toMatchObject({ verdict: 'equal', rounds: 3, checked: 1 });
    expect(states.find((s) => s.name === 'nondeterministic')!.check).toBeUndefined();
    expect(leftovers(store)).toEqual({ tmp: [], checks: [] });
    expect(buildDirsOf(store)).toEqual([]);
  }, 240_000);

  it('reports a declared nondeterministic derivation as expected to differ, and exits 0', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'declared', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('declared-random: differs, as expected');
    expect(r.stdout).toContain('declared nondeterministic: a toy: writes a random number on purpose');
    expect(r.stdout).toContain('stable: equal');
    const plainTargets = await slime(['targets', '-f', file, '--store', store], { cwd: dir });
    expect(plainTargets.stdout).toMatch(/declared\s+realized\s+checked 2\/2: 1 equal, 1 differs as declared/);
    const only = await slime(['check', 'declared', '-f', file, '--store', store, '--only', '--json'], { cwd: dir });
    expect(only.code).toBe(0);
    expect((JSON.parse(only.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['declared-random', 'stable']);
    const onlyOne = await slime(['check', 'stable', '-f', file, '--store', store, '--only'], { cwd: dir });
    expect(onlyOne.stdout).toMatch(/^stable: equal/);
    const skip = await slime(['check', 'declared', '-f', file, '--store', store, '--skip-declared'], { cwd: dir });
    expect(skip.code).toBe(0);
    expect(skip.stdout).toBe(`declared-random: not rebuilt: declared nondeterministic\n${skip.stdout.split('\n')[1]}\n`);
    expect(skip.stdout.split('\n')[1]).toMatch(/^stable: equal \(1 round: .*\)$/);
  }, 240_000);

  it('with --keep-failed keeps the rebuild as <out>.check and says where', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'randomText', '-f', file, '--store', store, '--keep-failed'], { cwd: dir });
    expect(r.code).toBe(104);
    const out = storePaths(store).find((p) => p.endsWith('-random-text'))!;
    const kept = path.join(store, `${out}.check`);
    expect(r.stdout).toContain(`the rebuild is kept at ${kept}`);
    expect(fs.readFileSync(path.join(kept, 'notes.txt'), 'utf8')).toMatch(/^same line\nlucky number \d+\nsame end\n$/);
    expect(fs.readFileSync(path.join(kept, 'notes.txt'), 'utf8')).not.toBe(fs.readFileSync(path.join(store, out, 'notes.txt'), 'utf8'));
    expect(leftovers(store).tmp).toEqual([]);
    expect(buildDirsOf(store)).toEqual([]);
  }, 240_000);

  it('with --diffoscope adds diffoscope\'s text and HTML reports', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['check', 'randomText', '-f', file, '--store', store, '--diffoscope', '--json'], { cwd: dir });
    expect(r.code).toBe(104);
    const [record] = JSON.parse(r.stdout) as { diffoscope: { text: string; html: string }[] }[];
    expect(record.diffoscope).toHaveLength(1);
    const { text, html } = record.diffoscope[0];
    expect(fs.readFileSync(text, 'utf8')).toMatch(/notes\.txt[\s\S]*-lucky number \d+[\s\S]*\+lucky number \d+/);
    expect(fs.readFileSync(html, 'utf8')).toContain('<html');
    expect(leftovers(store)).toEqual({ tmp: [], checks: [] });
  }, 240_000);

  it('leaves nothing behind when interrupted with Ctrl-C during the rebuild', async () => {
    const dir = tempDir();
    const file = toys(dir);
    const store = path.join(dir, 'store');
    const first = await slime(['realize', 'slow', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(first.code).toBe(0);
    const child = startSlime(['check', 'slow', '-f', file, '--store', store, '--log-format', 'json', '--keep-failed'], { cwd: dir });
    const done = collect(child);
    // Interrupt once the rebuild's builder is running (its first line is in the log).
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d) => {
        seen += d;
        const after = seen.slice(seen.indexOf('"type":"check-started"') + 1);
        if (seen.includes('"type":"check-started"') && after.includes('"line":"begun"')) resolve();
      });
    });
    child.kill('SIGINT');
    const r = await done;
    expect(r.stderr).toContain('error: interrupted');
    expect(r.code).toBe(130);
    expect(leftovers(store)).toEqual({ tmp: [], checks: [] });
    expect(buildDirsOf(store)).toEqual([]);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([expect.stringMatching(/-slow$/)]);
    expect(fs.readFileSync(path.join(store, storePaths(store).find((p) => p.endsWith('-slow'))!), 'utf8')).toBe('x\n');
  }, 240_000);
});
