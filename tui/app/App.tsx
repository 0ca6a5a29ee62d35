import { useStdout } from 'ink';
import { useEffect, useReducer, useState, useSyncExternalStore } from 'react';
import { INITIAL_STATE, recentIndex, reduceApp, type AppAction, type RecentCommand, type TargetsCommand, type TargetsContext } from './app-state.js';
import type { Backend } from './backend.js';
import { keystrokes, useKeys } from './keys.js';
import { LogViewer } from './LogViewer.js';
import { RecentRunsScreen } from './RecentRunsScreen.js';
import { RunScreen } from './RunScreen.js';
import type { Run, Runs } from './runs.js';
import type { RunMark } from './TargetList.js';
import { TargetsScreen } from './TargetsScreen.js';

/** `q`; Ctrl-C or SIGINT; or the signal that ended the app (a closed terminal's SIGHUP, SIGTERM). */
export type QuitReason = 'key' | 'interrupt' | 'SIGTERM' | 'SIGHUP';

export interface AppProps {
  backend: Backend;
  runs: Runs;
  /** Stops any running builds, then unmounts the app. */
  quit: (reason: QuitReason) => void;
  /** Fixed size for tests; by default the terminal's, following resizes. */
  width?: number;
  height?: number;
}

function useTerminalSize(fixed: { width?: number; height?: number }): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({ width: fixed.width ?? stdout.columns ?? 80, height: fixed.height ?? stdout.rows ?? 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  });
  return size;
}

/** Reads the targets at the start and again whenever a run ends: it changed what is realized and compared. */
function useTargetLoading(backend: Backend, run: Run | undefined, dispatch: (action: AppAction) => void): void {
  const settled = run === undefined || !run.active;
  useEffect(() => {
    if (!settled) return;
    let cancelled = false;
    backend.targets().then(
      (targets) => !cancelled && dispatch({ type: 'targets', targets }),
      (e: unknown) => !cancelled && dispatch({ type: 'targets-failed', error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      cancelled = true;
    };
  }, [backend, settled, run, dispatch]);
}

/**
 * Reads the runs of `slime run` while their screen is shown: once on opening it, and
 * again whenever the backend sees one recorded (another terminal's `slime run`).
 */
function useRecentRuns(backend: Backend, shown: boolean, dispatch: (action: AppAction) => void): void {
  useEffect(() => {
    if (!shown || backend.recentRuns === undefined) return;
    let cancelled = false;
    const load = () =>
      backend.recentRuns!().then(
        (runs) => !cancelled && dispatch({ type: 'recent', runs }),
        (e: unknown) => !cancelled && dispatch({ type: 'recent-failed', error: e instanceof Error ? e.message : String(e) }),
      );
    // Subscribed before the first read, so a run recorded in between is read too.
    const unwatch = backend.watchRecentRuns?.(() => void load());
    void load();
    return () => {
      cancelled = true;
      unwatch?.();
    };
  }, [backend, shown, dispatch]);
}

function runMarks(run: Run | undefined): Record<string, RunMark> {
  if (run === undefined) return {};
  if (run.active) return { [run.target]: 'running' };
  const failed = run.error !== undefined || run.outcome?.interrupted === true || (run.outcome?.failed ?? 0) > 0;
  return failed ? { [run.target]: 'failed' } : {};
}

/** `slime tui`: pick a target, realize it, read its logs, results and benchmarks. */
export function App({ backend, runs, quit, width, height }: AppProps) {
  const size = useTerminalSize({ width, height });
  // One line short of the terminal: a frame as tall as the screen makes Ink clear it on every draw.
  const lines = Math.max(8, size.height - 1);
  const [state, dispatch] = useReducer(reduceApp, INITIAL_STATE);
  const run = useSyncExternalStore(runs.subscribe, runs.getSnapshot);
  useTargetLoading(backend, run, dispatch);
  useRecentRuns(backend, state.screen.kind === 'recent', dispatch);
  const { targets } = state;

  const requestQuit = (reason: QuitReason) => {
    if (state.quitting) return;
    dispatch({ type: 'quitting' });
    quit(reason);
  };
  // In raw mode Ctrl-C is a key, not a signal: it is handled here on every screen.
  useKeys((input, key) => {
    if (keystrokes(input, key).some(([i, k]) => k.ctrl && i === 'c')) requestQuit('interrupt');
  });
  const status = state.quitting ? (run?.active ? 'stopping the running builds…' : 'quitting…') : undefined;

  const selected = targets?.[state.selected];
  const context: TargetsContext = {
    running: run?.active === true,
    hasRun: run !== undefined,
    comparesSamples: selected?.comparesSamples === true,
    ...(backend.check !== undefined ? { checks: true } : {}),
    ...(backend.recentRuns !== undefined ? { recentRuns: true } : {}),
  };
  const onTargetsCommand = (command: TargetsCommand) => {
    if (command.type === 'select') dispatch({ type: 'select', by: command.by });
    else if (command.type === 'show-run') dispatch({ type: 'show', screen: { kind: 'run' } });
    else if (command.type === 'show-recent') dispatch({ type: 'show', screen: { kind: 'recent' } });
    else if (command.type === 'quit') requestQuit('key');
    else if (selected !== undefined) {
      void runs.start(selected.name, command.type);
      dispatch({ type: 'show', screen: { kind: 'run' } });
    }
  };

  const onRecentCommand = (command: RecentCommand) => {
    if (command.type === 'select') dispatch({ type: 'select-recent', by: command.by });
    else if (command.type === 'back') dispatch({ type: 'show', screen: { kind: 'targets' } });
    else requestQuit('key');
  };

  const screen = state.screen;
  if (screen.kind === 'recent') {
    return (
      <RecentRunsScreen
        title={`slime tui · runs of slime run, newest first · store ${backend.storeDir}`}
        runs={state.recent}
        loadError={state.recentError}
        selected={recentIndex(state)}
        running={run?.active === true}
        status={status}
        width={size.width}
        height={lines}
        onCommand={onRecentCommand}
      />
    );
  }
  if (screen.kind === 'log') {
    return (
      <LogViewer
        name={screen.name}
        file={backend.logFile(screen.drvPath)}
        width={size.width}
        height={lines}
        onBack={() => dispatch({ type: 'show', screen: { kind: 'run' } })}
        onQuit={() => requestQuit('key')}
      />
    );
  }
  if (screen.kind === 'run' && run !== undefined) {
    return (
      <RunScreen
        run={run}
        focus={state.focus}
        width={size.width}
        height={lines}
        status={status}
        onFocus={(drvPath) => dispatch({ type: 'focus', drvPath })}
        onOpenLog={(drvPath, name) => dispatch({ type: 'show', screen: { kind: 'log', drvPath, name } })}
        onBack={() => dispatch({ type: 'show', screen: { kind: 'targets' } })}
        onQuit={() => requestQuit('key')}
      />
    );
  }
  return (
    <TargetsScreen
      title={`slime tui · ${backend.moduleName} · store ${backend.storeDir}`}
      targets={targets}
      loadError={state.loadError}
      selected={state.selected}
      runMarks={runMarks(run)}
      context={context}
      status={status}
      width={size.width}
      height={lines}
      onCommand={onTargetsCommand}
    />
  );
}
