/**
 * derivations/toolchains.ts remembers `rustc --print sysroot` for the user
 * ($XDG_CACHE_HOME/slime/rust-sysroot.json): a new store's evaluation reuses the answer
 * while the rustc files, rustup's settings and the working directory are the same, and
 * asks again when the remembered sysroot no longer holds bin/rustc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, ROOT, slime, tempDir } from './support/cli.js';

const dirs = [path.join(os.homedir(), '.cargo', 'bin'), '/usr/local/bin', '/usr/bin', '/bin'];
const hasRust = spawnSync('rustc', ['--version'], { env: { PATH: dirs.join(':'), HOME: os.homedir() } }).status === 0;

describe.skipIf(!hasRust)('the remembered Rust sysroot', () => {
  it('is reused by a new store, and asked again once it is gone', { timeout: 180_000 }, async () => {
    const real = execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8', env: { PATH: dirs.join(':'), HOME: os.homedir() } }).trim();
    const dir = tempDir('slime-rust-sysroot-');
    const file = path.join(dir, 'mod.ts');
    fs.writeFileSync(
      file,
      `import { derivation, target } from ${JSON.stringify(API)};
import { rustTools } from ${JSON.stringify(path.join(ROOT, 'derivations', 'toolchains.ts'))};
export const thing = derivation({ name: 'thing', builder: '/bin/sh', args: ['-c', 'echo > $out'], tools: rustTools() });
export const targets = [target('thing', 'one derivation with the Rust tools', [thing])];
`,
    );
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    const memory = path.join(dir, 'cache', 'slime', 'rust-sysroot.json');
    let stores = 0;
    const tools = async (): Promise<string> => {
      const r = await slime(['show', 'thing', '-f', file, '--store', path.join(dir, `store-${++stores}`)], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { derivation: { env: Record<string, string> } }).derivation.env.slimeHostTools;
    };

    expect(await tools()).toContain(path.join(real, 'bin', 'rustc'));
    const saved = JSON.parse(fs.readFileSync(memory, 'utf8')) as { key: string; sysroot: string };
    expect(saved.sysroot).toBe(real);

    // A remembered answer is used as it is, without asking rustc: here a stand-in toolchain.
    const fake = path.join(dir, 'toolchain');
    fs.mkdirSync(path.join(fake, 'bin'), { recursive: true });
    for (const t of ['rustc', 'cargo']) fs.writeFileSync(path.join(fake, 'bin', t), `#!/bin/sh\necho "${t} 0.0.0-stand-in"\n`, { mode: 0o755 });
    fs.writeFileSync(memory, JSON.stringify({ key: saved.key, sysroot: fake }));
    expect(await tools()).toContain(path.join(fake, 'bin', 'rustc'));

    // Gone: rustc is asked again, and the answer remembered again.
    fs.rmSync(fake, { recursive: true });
    expect(await tools()).toContain(path.join(real, 'bin', 'rustc'));
    expect((JSON.parse(fs.readFileSync(memory, 'utf8')) as { sysroot: string }).sysroot).toBe(real);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
