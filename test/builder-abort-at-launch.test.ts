/**
 * Ctrl-C that lands while a builder is being launched (the sandbox's setup is awaited
 * between the spawn and the build's abort listener). Seen in CI under load: the abort
 * had fired already, the listener never heard it, and the build ran to its end and was
 * registered after the interruption. The builder here waits for a file that exists only
 * after the test: were the abort missed, runBuilder would never resolve and the test
 * would fail on its timeout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuilder, type BuilderRun } from '../src/builder/run-builder.js';
import { tempDir } from './support/cli.js';

function waitingRun(dir: string, sandbox: boolean, signal: AbortSignal): { run: BuilderRun; gate: string; started: string } {
  const gate = path.join(dir, 'gate');
  const started = path.join(dir, 'started');
  const buildDir = path.join(dir, 'build');
  fs.mkdirSync(buildDir);
  const out = path.join(dir, 'store', '00000000000000000000000000000000-waits');
  fs.mkdirSync(path.dirname(out));
  const script = `echo > ${started}; until [ -e ${gate} ]; do sleep 0.05; done; echo > $out`;
  return {
    gate,
    started,
    run: {
      drvPath: path.join(dir, 'store', '00000000000000000000000000000000-waits.drv'),
      drv: {
        outputs: { out: { path: out, hashAlgo: '', hash: '' } },
        inputDrvs: {},
        inputSrcs: [],
        platform: 'x86_64-linux',
        builder: '/bin/sh',
        args: ['-c', script],
        env: { out },
      },
      buildDir,
      tempOutputs: { out },
      storeDir: path.join(dir, 'store'),
      inputClosure: [],
      sandbox,
      cores: 1,
      logFile: path.join(dir, 'log'),
      onLine: () => {},
      signal,
    },
  };
}

describe('a build interrupted while its builder is being launched', () => {
  it.each([
    ['without the sandbox', false],
    ['in the sandbox', true],
  ])('%s: is stopped and reported interrupted, never run to its end', async (_, sandbox) => {
    const dir = tempDir('slime-abort-launch-');
    const abort = new AbortController();
    const { run, gate } = waitingRun(dir, sandbox, abort.signal);
    const result = runBuilder(run);
    // runBuilder has returned at its first await: the launch is under way.
    abort.abort('SIGINT');
    try {
      expect(await result).toEqual({ kind: 'interrupted', signal: 'SIGINT' });
      expect(fs.existsSync(run.tempOutputs.out)).toBe(false);
    } finally {
      fs.writeFileSync(gate, '');
    }
  }, 20_000);

  it('aborted before it starts: no builder is launched at all', async () => {
    const dir = tempDir('slime-abort-launch-');
    const abort = new AbortController();
    abort.abort('SIGTERM');
    const { run, gate, started } = waitingRun(dir, false, abort.signal);
    try {
      expect(await runBuilder(run)).toEqual({ kind: 'interrupted', signal: 'SIGTERM' });
      expect(fs.existsSync(started)).toBe(false);
    } finally {
      fs.writeFileSync(gate, '');
    }
  });
});
