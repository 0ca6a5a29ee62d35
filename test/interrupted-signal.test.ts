/**
 * A fetch stopped by a signal is reported with that signal, not always SIGINT (one way
 * to say "cancelled": the abort's reason): SIGTERM during a download from a server that
 * never answers gives a failure `interrupted` by SIGTERM in the JSON log and exit 143.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { collect, startSlime, tempDir, writeModule } from './support/cli.js';
import path from 'node:path';
import { waitFor } from './support/processes.js';

let server: net.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('a fetch stopped by a signal', () => {
  it('is interrupted by SIGTERM when SIGTERM stopped it', async () => {
    // Accepts and never answers: the fetch waits until it is stopped.
    const held: net.Socket[] = [];
    server = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const dir = tempDir();
    const file = writeModule(dir, 'hang.ts', `
export const f = fetchFile({ name: 'f', sha256: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', mirrors: [{ url: 'http://127.0.0.1:${port}/f' }] });
export const targets = [target('f', 'hangs', [f])];`);
    const child = startSlime(['realize', 'f', '-f', file, '--store', path.join(dir, 'store'), '--no-link', '--log-format', 'json'], { cwd: dir });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const done = collect(child);
    await waitFor(() => held.length > 0, 120_000, 'the fetch connects');
    child.kill('SIGTERM');
    const r = await done;
    for (const s of held) s.destroy();
    expect(r.code).toBe(143);
    const events = err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SlimeEvent);
    const failed = events.find((e): e is Extract<SlimeEvent, { type: 'failed' }> => e.type === 'failed');
    expect(failed?.reason).toEqual({ kind: 'interrupted', signal: 'SIGTERM' });
  }, 180_000);
});
