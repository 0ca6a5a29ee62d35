/**
 * The build sandbox (src/builder/sandbox.ts), tried with real bwrap and real /bin/sh
 * builders: what a builder can read, write and reach, and what it leaves behind.
 * Each property is checked against the host, and where it could silently pass, the
 * same build without the sandbox shows that the check does catch the difference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { slime, sriSha256, storePaths, tempDir, treeOf, writeModule } from './support/cli.js';
import { processesWithArg, startLedgerServer, uniqueSleep, waitFor, type LedgerServer } from './support/processes.js';

let server: LedgerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the build sandbox', () => {
  /** Two unrelated paths in the store; the probe depends on one and knows the other's name (not as a dependency). */
  function reachModule(dir: string, store: string): string {
    return writeModule(dir, 'reach.ts', `
const storeDir = ${JSON.stringify(store)};
export const secret = derivation({ name: 'secret', builder: '/bin/sh', args: ['-c', 'echo classified > $out'] });
export const input = derivation({ name: 'input', builder: '/bin/sh', args: ['-c', 'echo public > $out'] });
export const probe = derivation({ name: 'probe', builder: '/bin/sh', tools: ['cat', 'ls', 'mkdir'],
  args: ['-c', 'mkdir $out; ls -A "$storeDir" > $out/visible; cat $input > $out/input; ' +
    'if cat "$storeDir/$secretName" > $out/secret 2>/dev/null; then echo read; else echo refused; fi > $out/verdict'],
  // Split so that the secret's path is not a dependency: the probe only knows where it is.
  env: { input, storeDir, secretName: secret.out.slice(storeDir.length + 1) } });
export const targets = [target('secret', 'a path outside the probe\\'s closure', [secret]), target('probe', 'looks around', [probe])];`);
  }

  it('shows a builder only its inputs\' closure: another store path cannot be read', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = reachModule(dir, store);
    expect((await slime(['realize', 'secret', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const r = await slime(['realize', 'probe', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    const input = storePaths(store).find((p) => p.endsWith('-input'))!;
    expect(fs.readFileSync(path.join(out, 'verdict'), 'utf8')).toBe('refused\n');
    expect(fs.readFileSync(path.join(out, 'input'), 'utf8')).toBe('public\n');
    // The store directory holds the closure and the build's own staging directory, nothing else.
    expect(fs.readFileSync(path.join(out, 'visible'), 'utf8').trim().split('\n')).toEqual(['.slime', input]);
  });

  it('(control) without the sandbox the same builder reads the other path', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = reachModule(dir, store);
    expect((await slime(['realize', 'secret', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const r = await slime(['realize', 'probe', '-f', file, '--store', store, '--no-link', '--no-sandbox'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(r.stdout.trim(), 'verdict'), 'utf8')).toBe('read\n');
  });

  it('shows an input that is a symlink as the symlink it is', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'link.ts', `
export const input = derivation({ name: 'input', builder: '/bin/sh', args: ['-c', 'echo through the link > $out'] });
export const link = derivation({ name: 'link', builder: '/bin/sh', tools: ['ln'], args: ['-c', 'ln -s $input $out'], env: { input } });
export const user = derivation({ name: 'user', builder: '/bin/sh', tools: ['cat', 'readlink'],
  args: ['-c', '{ readlink $link; cat $link; } > $out'], env: { link } });
export const targets = [target('user', 'reads through a symlink input', [user])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'user', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(r.code).toBe(0);
    const input = path.join(store, storePaths(store).find((p) => p.endsWith('-input'))!);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe(`${input}\nthrough the link\n`);
  });

  it('lets a builder write nowhere in the store but its own output', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'vandal.ts', `
const storeDir = ${JSON.stringify(store)};
export const victim = derivation({ name: 'victim', builder: '/bin/sh', args: ['-c', 'echo original > $out'] });
export const bystander = derivation({ name: 'bystander', builder: '/bin/sh', args: ['-c', 'echo untouched > $out'] });
const attempts = [
  ['input', 'echo more >> $victim'],
  ['chmod', 'chmod u+w $victim'],
  ['remove', 'rm -f $victim'],
  ['store', 'echo evil > "$storeDir/evil"'],
  ['other', 'echo more >> "$storeDir/$bystanderName"'],
  ['metadata', 'mkdir -p "$storeDir/.slime/db"'],
];
export const vandal = derivation({ name: 'vandal', builder: '/bin/sh', tools: ['mkdir', 'chmod', 'rm'],
  args: ['-c', 'mkdir $out; ' + attempts.map(([what, cmd]) =>
    \`if (\${cmd}) 2>/dev/null; then echo "\${what} wrote"; else echo "\${what} refused"; fi >> $out/verdicts; \`).join('') +
    'echo sneaky > "$storeDir/.slime/tmp/sneaky"; echo mine > $out/own'],
  env: { victim, storeDir, bystanderName: bystander.out.slice(storeDir.length + 1) } });
export const targets = [target('bystander', 'not an input', [bystander]), target('vandal', 'tries to write', [vandal])];`);
    expect((await slime(['realize', 'bystander', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const before = storePaths(store);
    const r = await slime(['realize', 'vandal', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    expect(fs.readFileSync(path.join(out, 'verdicts'), 'utf8').trim().split('\n')).toEqual(
      ['input', 'chmod', 'remove', 'store', 'other', 'metadata'].map((w) => `${w} refused`),
    );
    expect(fs.readFileSync(path.join(out, 'own'), 'utf8')).toBe('mine\n');
    const find = (suffix: string) => path.join(store, storePaths(store).find((p) => p.endsWith(suffix))!);
    expect(fs.readFileSync(find('-victim'), 'utf8')).toBe('original\n');
    expect(fs.readFileSync(find('-bystander'), 'utf8')).toBe('untouched\n');
    expect(fs.statSync(find('-victim')).mode & 0o777).toBe(0o444);
    // Only the new paths: the victim (an input), the vandal and its .drv.
    expect(storePaths(store).filter((p) => !before.includes(p)).map((p) => p.replace(/^[0-9a-z]{32}-/, '')).sort())
      .toEqual(['vandal', 'vandal.drv', 'victim', 'victim.drv']);
    // What it wrote beside its output in the staging directory went away with the build.
    expect(treeOf(path.join(store, '.slime/tmp'))).toEqual([]);
  });

  it('shows a closure of files, a directory and a symlink, each as it is, and nothing of it writable', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'mixed.ts', `
const storeDir = ${JSON.stringify(store)};
export const leaf = derivation({ name: 'leaf', builder: '/bin/sh', args: ['-c', 'echo leaf > $out'] });
export const tree = derivation({ name: 'tree', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir -p $out/sub; echo in-tree > $out/sub/f; echo $leaf > $out/ref'], env: { leaf } });
export const link = derivation({ name: 'link', builder: '/bin/sh', tools: ['ln'], args: ['-c', 'ln -s $tree/sub/f $out'], env: { tree } });
export const outsider = derivation({ name: 'outsider', builder: '/bin/sh', args: ['-c', 'echo out > $out'] });
const attempts = [
  ['leaf', 'echo more >> $leaf'], ['leaf-chmod', 'chmod u+w $leaf'], ['leaf-link', 'ln $leaf $out/hard'],
  ['tree', 'echo more >> $tree/sub/f'], ['tree-new', 'echo new > $tree/new'], ['tree-chmod', 'chmod u+w $tree'],
  ['link', 'rm -f $link'],
];
export const probe = derivation({ name: 'probe', builder: '/bin/sh', tools: ['cat', 'ls', 'mkdir', 'chmod', 'rm', 'ln', 'readlink'],
  args: ['-c', 'mkdir $out; ls -A "$storeDir" > $out/visible; { cat $leaf $tree/sub/f $link; readlink $link; } > $out/read; ' +
    attempts.map(([what, cmd]) => \`if (\${cmd}) 2>/dev/null; then echo "\${what} wrote"; else echo "\${what} refused"; fi >> $out/verdicts; \`).join('')],
  env: { leaf, tree, link, storeDir } });
export const targets = [target('outsider', 'not an input', [outsider]), target('probe', 'looks at its closure', [probe])];`);
    expect((await slime(['realize', 'outsider', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const r = await slime(['realize', 'probe', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    const find = (suffix: string) => storePaths(store).find((p) => p.endsWith(suffix))!;
    // The closure (the leaf through the tree's reference), the staging mount point, not the outsider.
    expect(fs.readFileSync(path.join(out, 'visible'), 'utf8').trim().split('\n')).toEqual(['.slime', find('-leaf'), find('-link'), find('-tree')].sort());
    expect(fs.readFileSync(path.join(out, 'read'), 'utf8')).toBe(`leaf\nin-tree\nin-tree\n${path.join(store, find('-tree'))}/sub/f\n`);
    expect(fs.readFileSync(path.join(out, 'verdicts'), 'utf8').trim().split('\n')).toEqual(
      ['leaf', 'leaf-chmod', 'leaf-link', 'tree', 'tree-new', 'tree-chmod', 'link'].map((w) => `${w} refused`),
    );
    expect(fs.readFileSync(path.join(store, find('-leaf')), 'utf8')).toBe('leaf\n');
    expect(fs.statSync(path.join(store, find('-leaf'))).nlink).toBe(1);
    expect(treeOf(path.join(store, '.slime/tmp'))).toEqual([]);
  });

  it('shows each build of one run exactly its own closure, though the store view is kept from build to build', async () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    // One job, so every probe gets the same kept view after the one before it, in some
    // order: each must see its closure, nothing a probe before it had (links, the mount
    // point of a directory input).
    const file = writeModule(dir, 'views.ts', `
const storeDir = ${JSON.stringify(store)};
export const leafA = derivation({ name: 'leafA', builder: '/bin/sh', args: ['-c', 'echo a > $out'] });
export const leafB = derivation({ name: 'leafB', builder: '/bin/sh', args: ['-c', 'echo b > $out'] });
export const treeC = derivation({ name: 'treeC', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir -p $out/sub; echo c > $out/sub/f'] });
const probe = (name, env) => derivation({ name, builder: '/bin/sh', tools: ['ls', 'mkdir'],
  args: ['-c', 'mkdir $out; ls -A "$storeDir" > $out/visible'], env: { ...env, storeDir } });
export const targets = [target('probes', 'four closures, one after another', [
  probe('probe-ac', { leafA, treeC }), probe('probe-b', { leafB }), probe('probe-a', { leafA }), probe('probe-none', {}),
])];`);
    const r = await slime(['realize', 'probes', '-f', file, '--store', store, '--no-link', '-j', '1'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const find = (suffix: string) => storePaths(store).find((p) => p.endsWith(suffix))!;
    const seen = (probe: string) => fs.readFileSync(path.join(store, find(probe), 'visible'), 'utf8').trim().split('\n');
    expect(seen('-probe-ac')).toEqual(['.slime', find('-leafA'), find('-treeC')].sort());
    expect(seen('-probe-b')).toEqual(['.slime', find('-leafB')].sort());
    expect(seen('-probe-a')).toEqual(['.slime', find('-leafA')].sort());
    expect(seen('-probe-none')).toEqual(['.slime']);
    // The kept views went with the run.
    expect(treeOf(path.join(store, '.slime/tmp'))).toEqual([]);
  });

  it('keeps the network away from a builder; a fixed-output derivation reaches it', async () => {
    const payload = `payload ${Math.random()}\n`;
    server = await startLedgerServer(payload);
    const dir = tempDir();
    const store = path.join(dir, 'store');
    const file = writeModule(dir, 'net.ts', `
const connect = 'if cat < /dev/tcp/127.0.0.1/$port > $out 2>/dev/null; then :; else echo unreachable > $out; fi';
export const offline = derivation({ name: 'offline', builder: '/bin/bash', tools: ['cat'], args: ['-c', connect],
  env: { port: '${server.port}' } });
export const fetcher = derivation({ name: 'fetcher', builder: '/bin/bash', tools: ['cat'], args: ['-c', connect],
  env: { port: '${server.port}' }, outputHash: { hash: '${sriSha256(payload)}', mode: 'flat' } });
export const targets = [target('offline', 'no network', [offline]), target('fetcher', 'fixed-output', [fetcher])];`);
    const offline = await slime(['realize', 'offline', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(offline.code).toBe(0);
    expect(fs.readFileSync(offline.stdout.trim(), 'utf8')).toBe('unreachable\n');
    expect(server.connections).toHaveLength(0);
    const fetched = await slime(['realize', 'fetcher', '-f', file, '--store', store, '--no-link'], { cwd: dir });
    expect(fetched.stderr).not.toContain('error');
    expect(fetched.code).toBe(0);
    expect(fs.readFileSync(fetched.stdout.trim(), 'utf8')).toBe(payload);
    expect(server.connections).toHaveLength(1);
  });

  /** A builder that leaves a daemon behind (`setsid`), which would outlive an ordinary process group. */
  function daemonModule(dir: string, marker: string): string {
    return writeModule(dir, 'daemon.ts', `
export const daemon = derivation({ name: 'daemon', builder: '/bin/sh', tools: ['setsid', 'sleep', 'touch', 'sh'],
  // The builder ends only once the daemon is in its own session, out of the builder's process group.
  args: ['-c', 'setsid sh -c \\'touch "$1"; exec sleep ${marker}\\' sh $TMPDIR/ready & ' +
    'until [ -e $TMPDIR/ready ]; do sleep 0.05; done; echo running > $out'] });
export const targets = [target('daemon', 'leaves a process', [daemon])];`);
  }

  it('ends every process of the build with the builder, setsid daemons included', async () => {
    const dir = tempDir();
    const marker = uniqueSleep();
    const r = await slime(['realize', 'daemon', '-f', daemonModule(dir, marker), '--store', path.join(dir, 'store'), '--no-link'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe('running\n');
    await waitFor(() => processesWithArg(marker).length === 0, 60_000, 'the daemon ends');
  });

  // Without the sandbox the builder is the init of a PID namespace too: its daemons end
  // with it as well (test/no-sandbox-daemon.test.ts, with the control where no namespace
  // can be made).

  it('is turned off by SLIME_SANDBOX=0 as by --no-sandbox; another value is refused in one line', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'where.ts', `
export const where = derivation({ name: 'where', builder: '/bin/sh', args: ['-c', 'echo $NIX_BUILD_TOP > $out'] });
export const targets = [target('where', 'says where it runs', [where])];`);
    const run = (store: string, env: NodeJS.ProcessEnv) => slime(['realize', 'where', '-f', file, '--store', path.join(dir, store), '--no-link'], { cwd: dir, env });
    const on = await run('a', { SLIME_SANDBOX: '1' });
    expect(fs.readFileSync(on.stdout.trim(), 'utf8')).toBe('/build\n');
    const off = await run('b', { SLIME_SANDBOX: '0' });
    expect(off.code).toBe(0);
    expect(fs.readFileSync(off.stdout.trim(), 'utf8')).not.toBe('/build\n');
    const bad = await run('c', { SLIME_SANDBOX: 'maybe' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: SLIME_SANDBOX must be 1 or 0, not "maybe"\n');
  });
});
