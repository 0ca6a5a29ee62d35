import { Box, Text } from 'ink';
import { fitWidth, fitWidthMarked, formatDuration } from '../../src/run/format.js';
import { recentHelp, recentKey, type RecentCommand } from './app-state.js';
import type { RecentRun } from './backend.js';
import { ListScreen } from './ListScreen.js';

/** `859 ms` below ten seconds (what a script's run is compared with a budget in), `42s`, `3m12s` above. */
export function formatWall(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)} ms` : formatDuration(ms);
}

const two = (n: number) => String(n).padStart(2, '0');

/** `2026-12-02 01:22:05`, in the machine's time zone, as `ls -l` and the shell's prompt show times. */
export function formatWhen(time: number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** How the script ended, as a shell reports it: `exit 0`, `exit 3`, `SIGKILL`. */
export function endOf(r: RecentRun): { text: string; ok: boolean } {
  if (r.signal !== null) return { text: r.signal, ok: false };
  return { text: `exit ${r.exitCode ?? '?'}`, ok: r.exitCode === 0 };
}

/** A Light run slower than its budget: an auto run with that budget sends the script to Full from now on. */
export function overBudget(r: RecentRun): boolean {
  return r.tier === 'light' && r.wallMs > r.budgetMs;
}

/** The marks of `slime run --explain`: `!` needs Full, `>` prefers Full, `-` a note. */
function reasonLine(r: RecentRun['reasons'][number]): string {
  const mark = r.effect === 'needs-full' ? '!' : r.effect === 'prefers-full' ? '>' : '-';
  return `  ${mark} ${r.kind}${r.line ? ` (line ${r.line})` : ''}: ${r.detail}`;
}

/** The picked run in full: how the tier was chosen, every reason, and the budget. */
function detailLines(r: RecentRun): { text: string; color?: 'yellow' }[] {
  const how = r.requested === 'auto' ? `picked by the router` : `asked for with --tier ${r.requested}`;
  const lines: { text: string; color?: 'yellow' }[] = [{ text: `${r.script}  sha256 ${r.scriptHash.slice(0, 16)}…  ${r.tier} tier, ${how}` }];
  if (overBudget(r)) lines.push({ text: `over its ${r.budgetMs} ms budget on Light: an auto run with that budget goes to Full next time`, color: 'yellow' });
  else lines.push({ text: `budget ${r.budgetMs} ms` });
  if (r.reasons.length === 0) lines.push({ text: '  (no reasons: nothing against the Light tier)' });
  for (const reason of r.reasons) lines.push({ text: reasonLine(reason) });
  return lines;
}

export interface RecentRunsScreenProps {
  title: string;
  runs: readonly RecentRun[] | undefined;
  loadError?: string;
  selected: number;
  running: boolean;
  status?: string;
  width: number;
  height: number;
  onCommand: (command: RecentCommand) => void;
}

/** The runs of `slime run` the store recorded, newest first, and the picked one's reasons. */
export function RecentRunsScreen(props: RecentRunsScreenProps) {
  const { title, runs, loadError, selected, running, status, width, height, onCommand } = props;
  const picked = runs?.[selected];
  const details = picked !== undefined ? detailLines(picked) : [];
  // Title, header, rows, a blank line, the detail's title and lines, the help line.
  const room = height - 1 - 1 - 1 - 1 - 1;
  const listRows = Math.min(runs?.length ?? 0, Math.max(3, Math.floor(room / 2)), Math.max(1, room - 3));
  const first = Math.max(0, Math.min(selected - Math.floor(listRows / 2), (runs?.length ?? 0) - listRows));
  const shown = runs?.slice(first, first + listRows) ?? [];
  const detailRoom = Math.max(1, room - listRows);
  const cut = details.length > detailRoom ? details.length - detailRoom + 1 : 0;
  const visibleDetails = cut > 0 ? [...details.slice(0, detailRoom - 1), { text: `  … ${cut} more` }] : details;

  const wallWidth = shown.reduce((w, r) => Math.max(w, formatWall(r.wallMs).length), 4);
  const endWidth = shown.reduce((w, r) => Math.max(w, endOf(r).text.length), 6);
  const when = 19;
  // Marker, symbol and a space, then the columns with two spaces after each.
  const scriptWidth = Math.max(0, width - 5 - when - 2 - 5 - 2 - wallWidth - 2 - endWidth - 2);
  const list =
    runs === undefined ? undefined : runs.length === 0 ? (
      <Box flexDirection="column">
        <Text dimColor>No runs recorded yet.</Text>
        <Text dimColor>{fitWidthMarked('`slime run SCRIPT.py` runs a script on the tier the router picks; each run is listed here.', width)}</Text>
      </Box>
    ) : (
      <Box flexDirection="column">
        <Text dimColor wrap="truncate-end">
          {fitWidth(`     ${'WHEN'.padEnd(when)}  TIER   ${'WALL'.padStart(wallWidth)}  ${'STATUS'.padEnd(endWidth)}  SCRIPT`, width)}
        </Text>
        {shown.map((r, i) => {
          const here = first + i === selected;
          const end = endOf(r);
          return (
            <Text key={`${r.time} ${r.scriptHash}`} wrap="truncate-end">
              <Text color="yellow">{here ? ' › ' : '   '}</Text>
              <Text color={end.ok ? 'green' : 'red'}>{end.ok ? '✔' : '✖'}</Text>
              <Text bold={here}>{` ${formatWhen(r.time)}`}</Text>
              {'  '}
              <Text color={r.tier === 'full' ? 'magenta' : 'cyan'}>{r.tier.padEnd(5)}</Text>
              {'  '}
              <Text color={overBudget(r) ? 'yellow' : undefined}>{formatWall(r.wallMs).padStart(wallWidth)}</Text>
              {'  '}
              <Text color={end.ok ? undefined : 'red'}>{end.text.padEnd(endWidth)}</Text>
              {'  '}
              <Text>{fitWidthMarked(r.script, scriptWidth)}</Text>
            </Text>
          );
        })}
      </Box>
    );
  const detail =
    picked !== undefined ? (
      <Box flexDirection="column">
        <Text dimColor wrap="truncate-end">
          {fitWidthMarked(`── run of ${picked.script}: ${picked.tier}, ${formatWall(picked.wallMs)}, ${endOf(picked).text} ──`, width)}
        </Text>
        {visibleDetails.map((line, i) => (
          <Text key={i} color={line.color} wrap="truncate-end">
            {fitWidthMarked(line.text, width)}
          </Text>
        ))}
      </Box>
    ) : null;
  return (
    <ListScreen
      title={title}
      loadError={loadError}
      loading="reading the runs…"
      list={list}
      detail={detail}
      commandOf={recentKey}
      onCommand={onCommand}
      help={recentHelp(running)}
      status={status}
      width={width}
      height={height}
    />
  );
}
