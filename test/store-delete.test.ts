/** `slime store delete PATH...` (nix-store --delete): only dead paths, all or nothing. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

const MODULE = `const base = derivation({ name: 'base', builder: '/bin/sh', args: ['-c', 'echo base > $out'] });
const app = derivation({ name: 'app', builder: '/bin/sh', args: ['-c', 'echo $base > $out'], env: { base } });
export const targets = [target('app', 'x', [app])];\n`;

async function realized(linked: boolean) {
  const dir = tempDir();
  const file = writeModule(dir, 'm.ts', MODULE);
  const store = path.join(dir, 'store');
  const r = await slime(['realize', 'app', '-f', file, '--store', store, ...(linked ? [] : ['--no-link'])], { cwd: dir });
  expect(r.code).toBe(0);
  const byName = (name: string) => path.join(store, storePaths(store).find((p) => p.slice(33) === name)!);
  return { dir, store, app: byName('app'), base: byName('base') };
}

describe('slime store delete', () => {
  it('deletes a dead path and its registration, and it is rebuilt by the next realize', async () => {
    const { dir, store, app } = await realized(false);
    const r = await slime(['store', 'delete', app, '--store', store], { cwd: dir });
    expect(r.stderr).toBe('1 store path deleted, 0.0 MiB freed\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`deleted ${app}\n`);
    expect(fs.existsSync(app)).toBe(false);
    const info = await slime(['store', 'path-info', app, '--store', store], { cwd: dir });
    expect(info.code).toBe(1);
    const again = await slime(['realize', 'app', '-f', path.join(dir, 'm.ts'), '--store', store, '--no-link', '--log-format', 'plain'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/1 built/);
  });

  it('refuses a path another valid path refers to, and deletes it together with its referrer', async () => {
    const { dir, store, app, base } = await realized(false);
    const refused = await slime(['store', 'delete', base, '--store', store], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`error: cannot delete ${base}: ${app} refers to it; delete that path too, or run \`slime gc\`\n`);
    expect(fs.existsSync(base)).toBe(true);
    const both = await slime(['store', 'delete', base, app, '--store', store], { cwd: dir });
    expect(both.code).toBe(0);
    // Printed in store-path order, which the random hash parts decide.
    expect(both.stdout.split('\n').filter(Boolean).sort()).toEqual([`deleted ${app}`, `deleted ${base}`].sort());
    expect(fs.existsSync(app) || fs.existsSync(base)).toBe(false);
  });

  it('refuses a path a gc root keeps alive (./result), and deletes nothing', async () => {
    const { dir, store, app } = await realized(true);
    const r = await slime(['store', 'delete', './result', '--store', store], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot delete ${app}: it is still alive .*remove the root`));
    expect(fs.existsSync(app)).toBe(true);
  });

  it('names what is not a store path, and a path that does not exist', async () => {
    const { dir, store } = await realized(false);
    const outside = await slime(['store', 'delete', '/etc/hostname', '--store', store], { cwd: dir });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^error: cannot delete \/etc\/hostname: it is not \(and does not link to\) a path in the store/);
    const missing = path.join(store, '00000000000000000000000000000000-nothing');
    const absent = await slime(['store', 'delete', missing, '--store', store], { cwd: dir });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe(`error: cannot delete ${missing}: no such path in the store ${store}; \`slime targets\` lists what is realized\n`);
    const none = await slime(['store', 'delete', '--store', store], { cwd: dir });
    expect(none.code).toBe(2);
  });
});
