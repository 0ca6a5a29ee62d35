/** With --log-format json every line on stderr is a JSON event, errors included. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';

describe('--log-format json stays JSON', () => {
  it('a failed build: its closing errors are message events', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `export const targets = [target('t', 'x', [derivation({ name: 'broken', builder: '/bin/sh', args: ['-c', 'exit 4'] })])];\n`);
    const r = await slime(['realize', 't', '-f', file, '--store', path.join(dir, 'store'), '--log-format', 'json'], { cwd: dir });
    expect(r.code).toBe(100);
    const lines = r.stderr.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { type: string; level?: string; message?: string });
    const finished = events.findIndex((e) => e.type === 'finished');
    expect(finished).toBeGreaterThan(0);
    expect(events.slice(finished + 1)).toEqual([
      expect.objectContaining({ type: 'message', level: 'error', message: expect.stringMatching(/^broken failed: builder exited with code 4; log: /), exitCode: 100 }),
    ]);
  });

  it('an error before any build (a module that throws) is a message event too', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `throw new Error('nope');\n`);
    const r = await slime(['realize', 't', '-f', file, '--store', path.join(dir, 'store'), '--log-format=json'], { cwd: dir });
    expect(r.code).toBe(1);
    const [event, ...rest] = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type: 'message', level: 'error', exitCode: 1, message: expect.stringContaining('nope') });
  });
});
