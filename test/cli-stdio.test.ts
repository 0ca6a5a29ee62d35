/**
 * The CLI writes text to stdout and stderr with fs.writeSync until something needs a
 * stream (src/cli/stdio.ts). A descriptor in non-blocking mode (a pipe whose other end
 * set O_NONBLOCK on the shared file description, as Node does to its own) refuses a
 * write when full (EAGAIN): the rest goes through Node's stream, which queues it and
 * drains it before slime exits. Every byte arrives, in order, and nothing is said about it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyOutput } from '../src/cli/stdio.js';
import { CLI, slime, tempDir, writeModule } from './support/cli.js';

/**
 * Runs argv with its stdout a non-blocking pipe that is read only once full (FIONREAD
 * says it holds as much as the kernel takes), so the writer meets EAGAIN; then reads
 * to the end. Prints the bytes read; exits with the child's status.
 */
const NONBLOCKING_READER = `
import fcntl, os, subprocess, sys, termios, struct, select
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
child = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
full = fcntl.fcntl(r, 1032)  # F_GETPIPE_SZ
while True:
    avail = struct.unpack('i', fcntl.ioctl(r, termios.FIONREAD, b'\\0\\0\\0\\0'))[0]
    if avail >= full or child.poll() is not None:
        break
    select.select([], [], [], 0.01)
out = bytearray()
while True:
    chunk = os.read(r, 1 << 16)
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(child.wait())
`;

describe('text on stdout', () => {
  it('reaches a reader in full and in order when its non-blocking pipe fills up', async () => {
    const dir = tempDir();
    // A derivation whose .drv is some 600 KB of text: many pipefuls.
    const file = writeModule(
      dir,
      'big.ts',
      `const big = derivation({ name: 'big', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { text: Array.from({ length: 20000 }, (_, i) => 'line ' + i).join(' ') + '|'.repeat(400000) } });
export const targets = [target('big', 'a big .drv', [big])];`,
    );
    const store = path.join(dir, 'store');
    const args = ['show', 'big', '--drv', '-f', file, '--store', store];
    const direct = await slime(args, { cwd: dir });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout.length).toBeGreaterThan(500_000);
    const readerScript = path.join(dir, 'reader.py');
    fs.writeFileSync(readerScript, NONBLOCKING_READER);
    const viaPipe = execFileSync('python3', [readerScript, process.execPath, CLI, ...args], {
      cwd: dir,
      env: { ...process.env, CI: '1' },
      maxBuffer: 16 << 20,
    });
    expect(viaPipe.toString('utf8')).toBe(direct.stdout);
  });

  it('writes text in the encoding given, says a file is no terminal, and makes no stream for either', () => {
    const file = path.join(tempDir(), 'out');
    const fd = fs.openSync(file, 'w');
    try {
      const out = lazyOutput(fd, () => {
        throw new Error('a stream was made');
      }, () => {});
      out.write('\u00e9', 'latin1');
      out.write('x\n');
      expect((out as unknown as NodeJS.WriteStream).isTTY).toBe(false);
      expect(out.writableLength).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    expect([...fs.readFileSync(file)]).toEqual([0xe9, 0x78, 0x0a]);
  });

  it('says /dev/null is no terminal without making a stream, and asks the stream about any other character device', () => {
    const nul = fs.openSync('/dev/null', 'w');
    try {
      const out = lazyOutput(nul, () => {
        throw new Error('a stream was made');
      }, () => {});
      expect((out as unknown as NodeJS.WriteStream).isTTY).toBe(false);
      out.write('dropped\n');
    } finally {
      fs.closeSync(nul);
    }
    // /dev/tty is a character device of another kind (5, 0): only Node's stream can tell a terminal.
    let tty: number;
    try {
      tty = fs.openSync('/dev/tty', 'w');
    } catch {
      return; // no controlling terminal here: the case above is the one this test is for
    }
    try {
      let asked = false;
      const out = lazyOutput(tty, () => {
        asked = true;
        return { isTTY: true } as NodeJS.WriteStream;
      }, () => {});
      expect((out as unknown as NodeJS.WriteStream).isTTY).toBe(true);
      expect(asked).toBe(true);
    } finally {
      fs.closeSync(tty);
    }
  });
});
