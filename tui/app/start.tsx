/**
 * Runs the interactive app on the terminal until the user quits, and gives the
 * terminal back as it was: the app draws on the alternate screen (as less and vim
 * do), so the shell's scrollback is untouched, and Ink restores the cursor and
 * cooked mode when it unmounts.
 */
import { render } from 'ink';
import { App, type QuitReason } from './App.js';
import type { Backend } from './backend.js';
import { Runs } from './runs.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';

export interface TuiAppOptions {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** Resolves with how the app ended: by the user quitting, or by an interrupt. */
export async function runTuiApp(backend: Backend, opts: TuiAppOptions): Promise<QuitReason> {
  const runs = new Runs(backend);
  let reason: QuitReason | undefined;
  let unmount = () => {};
  // Builds are stopped and waited for before the app goes, so none outlives slime.
  const quit = (why: QuitReason) => {
    reason ??= why;
    // The builds report the signal that stopped them, as those of `slime realize` do.
    void runs.stop(why === 'key' ? undefined : why === 'interrupt' ? 'SIGINT' : why).then(() => unmount());
  };
  const onSignal = (signal: NodeJS.Signals) => quit(signal === 'SIGTERM' || signal === 'SIGHUP' ? signal : 'interrupt');
  opts.stdout.write(ENTER_ALT_SCREEN);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const instance = render(<App backend={backend} runs={runs} quit={quit} />, {
      stdout: opts.stdout,
      stdin: opts.stdin,
      exitOnCtrlC: false,
      // A run's frames are spaced by paceFrames; Ink must draw each commit at once, not defer it.
      maxFps: 1000,
    });
    unmount = () => instance.unmount();
    await instance.waitUntilExit();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    opts.stdout.write(LEAVE_ALT_SCREEN);
  }
  return reason ?? 'key';
}
