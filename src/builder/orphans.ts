/**
 * Builders run in their own process group, so a SIGKILLed slime (which cannot clean
 * up) leaves its builder running while the derivation's lock is released. The builder's
 * process group is therefore recorded beside the lock (`locks/<hash>.pgid`:
 * "PGID STARTTIME", STARTTIME the leader's start in clock ticks since boot, from
 * /proc/PGID/stat), and whoever takes the lock next ends that group, and waits until
 * it is gone, before it builds: a derivation never runs twice at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hashPartOf } from '../store/paths.js';
import type { Store } from '../store/store.js';

function groupFile(store: Store, drvPath: string): string {
  return path.join(store.stateDir, 'locks', `${hashPartOf(drvPath)}.pgid`);
}

/** Fields of /proc/PID/stat after the command: state is [0], pgrp [2], starttime [19]. */
function statOf(pid: string | number): string[] | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function recordBuildGroup(store: Store, drvPath: string, pid: number): void {
  const start = statOf(pid)?.[19] ?? '0';
  try {
    fs.writeFileSync(groupFile(store, drvPath), `${pid} ${start}\n`);
  } catch {
    // Without the record an orphan cannot be found; the build itself is unaffected.
  }
}

export function clearBuildGroup(store: Store, drvPath: string): void {
  fs.rmSync(groupFile(store, drvPath), { force: true });
}

/** Live (not zombie) members of process group `pgid`, if the group is the one recorded. */
function members(pgid: number, start: string): number[] {
  const leader = statOf(pgid);
  if (leader && leader[0] !== 'Z' && leader[19] !== start) return []; // the number was reused
  const found: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = statOf(e);
    if (st && st[2] === String(pgid) && st[0] !== 'Z') found.push(Number(e));
  }
  return found;
}

export async function awaitOrphanedBuild(store: Store, drvPath: string): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(groupFile(store, drvPath), 'utf8');
  } catch {
    return;
  }
  const [pgidText, start] = text.trim().split(' ');
  const pgid = Number(pgidText);
  if (!Number.isInteger(pgid) || pgid <= 1) return clearBuildGroup(store, drvPath);
  for (let i = 0; members(pgid, start).length > 0; i++) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone already, or not ours to kill: members() decides.
    }
    if (i > 500) break; // ~10 s: a process in uninterruptible sleep; go on rather than hang.
    await new Promise((r) => setTimeout(r, 20));
  }
  clearBuildGroup(store, drvPath);
}
