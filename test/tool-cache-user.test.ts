/**
 * Host tool identities are kept per user ($XDG_CACHE_HOME/slime/tool-cache.json), not
 * per store: a new store does not run a tool's --version again, and a changed tool is
 * asked again whatever store it is evaluated for.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API, slime, tempDir } from './support/cli.js';

describe('the host tool cache', () => {
  it('is shared by stores, and a changed tool is identified again', { timeout: 180_000 }, async () => {
    const dir = tempDir('slime-tool-cache-');
    const runs = path.join(dir, 'runs');
    const tool = path.join(dir, 'mytool');
    const writeTool = (version: string) =>
      fs.writeFileSync(tool, `#!/bin/sh\necho "$1" >> ${JSON.stringify(runs)}\necho mytool ${version}\n`, { mode: 0o755 });
    writeTool('1.0');
    const file = path.join(dir, 'mod.ts');
    fs.writeFileSync(
      file,
      `import { derivation, target } from ${JSON.stringify(API)};
export const thing = derivation({ name: 'thing', builder: '/bin/sh', args: ['-c', 'echo > $out'], tools: [${JSON.stringify(tool)}] });
export const targets = [target('thing', 'one derivation', [thing])];
`,
    );
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    const show = async (store: string) => {
      const r = await slime(['show', 'thing', '-f', file, '--store', path.join(dir, store)], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { derivation: { env: Record<string, string> } }).derivation.env.slimeHostTools;
    };
    const versionRuns = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter((l) => l === '--version').length : 0);

    const first = await show('a');
    expect(first).toContain('mytool 1.0');
    expect(versionRuns()).toBe(1);
    expect(fs.existsSync(path.join(dir, 'cache', 'slime', 'tool-cache.json'))).toBe(true);
    // Another store, never created: the identity comes from the user's cache.
    expect(await show('b')).toBe(first);
    expect(versionRuns()).toBe(1);

    writeTool('2.0');
    const changed = await show('c');
    expect(changed).toContain('mytool 2.0');
    expect(versionRuns()).toBe(2);
  });
});
