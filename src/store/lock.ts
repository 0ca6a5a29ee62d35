/**
 * Cross-process locks on store files: flock(2) locks held by one helper process per
 * slime process.
 *
 * Node has no flock(2). A helper that holds the locks and exits when our pipe to it
 * closes gives the kernel's guarantees: every lock is released the moment this process
 * dies, even by SIGKILL, so there is no stale-lock detection to get wrong. One helper
 * (a few lines of Perl: perl-base is an Essential Debian package) serves every lock
 * of the process, so a build costs no process start for its lock; it runs in its own
 * process group so that Ctrl-C on the terminal does not release a lock while slime is
 * still cleaning up.
 *
 * Protocol on the helper's stdin/stdout, one line each:
 *   request  = "L" SP id SP ("s" | "x") SP path   try to lock path, shared or exclusive
 *            | "U" SP id                          release lock id
 *   reply    = "G" SP id                          granted
 *            | "B" SP id                          busy: another process holds it (retry later)
 *            | "E" SP id SP message               cannot open or lock the file
 *            | "R" SP id                          released
 * Locks are tried without blocking, so one waiting lock never holds up the others;
 * a busy lock is asked for again, less and less often (10 ms up to 100 ms).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

// node:child_process (and net, dgram behind it) is loaded when a process is first started,
// not by every command that imports this module: a few ms of a no-op's start.
const childProcess = () => process.getBuiltinModule('node:child_process');

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  shared?: boolean;
  /** Called once if the lock is not granted at once (another process holds it). */
  onWait?: () => void;
  signal?: AbortSignal;
}

const WAIT_NOTICE_MS = 150;
const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 100;

const HELPER = `
use strict; use Fcntl qw(:flock); $| = 1; my %held;
while (my $line = <STDIN>) {
  chomp $line; my ($op, $id, $mode, $path) = split / /, $line, 4;
  if ($op eq 'L') {
    my $fh;
    if (!open($fh, '>>', $path)) { print "E $id cannot open: $!\\n"; next; }
    if (flock($fh, ($mode eq 's' ? LOCK_SH : LOCK_EX) | LOCK_NB)) { $held{$id} = $fh; print "G $id\\n"; }
    elsif ($!{EWOULDBLOCK}) { close $fh; print "B $id\\n"; }
    else { print "E $id flock: $!\\n"; close $fh; }
  } elsif ($op eq 'U') { my $fh = delete $held{$id}; close $fh if $fh; print "R $id\\n"; }
}`;

/** `helper`: the helper itself failed (the message says so), rather than this one lock. */
type Reply = { kind: 'G' | 'B' | 'R' } | { kind: 'E'; message: string; helper?: boolean };

/** The process's lock helper: started on first use, kept while the process lives. */
class LockHelper {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private buffered = '';
  private dead: Error | undefined;

  constructor() {
    this.child = childProcess().spawn('perl', ['-e', HELPER], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => this.onData(d));
    let err = '';
    this.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    this.child.on('error', (e) => this.fail(new SlimeError(`cannot start the lock helper (perl): ${e.message}; slime needs perl (Debian's perl-base)`)));
    this.child.on('exit', (code) => this.fail(new SlimeError(`the lock helper exited with ${code}${err ? `: ${err.trim()}` : ''}`)));
    // Held locks do not keep slime alive; a request being answered does (see request).
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  request(line: string, id: number): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const stdout = this.child.stdout as unknown as { ref?: () => void; unref?: () => void };
      if (this.waiting.size === 0) stdout.ref?.();
      this.waiting.set(id, (r) => {
        if (this.waiting.size === 0) stdout.unref?.();
        resolve(r);
      });
      this.child.stdin!.write(`${line}\n`, (e) => {
        if (e) {
          this.waiting.delete(id);
          reject(this.dead ?? e);
        }
      });
    });
  }

  private onData(d: string): void {
    this.buffered += d;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) !== -1) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const [kind, idText, ...rest] = line.split(' ');
      const id = Number(idText);
      const answer = this.waiting.get(id);
      if (!answer) continue;
      this.waiting.delete(id);
      answer(kind === 'E' ? { kind: 'E', message: rest.join(' ') } : { kind: kind as 'G' | 'B' | 'R' });
    }
  }

  private fail(e: Error): void {
    this.dead ??= e;
    if (helper === this) helper = undefined;
    for (const [id, answer] of this.waiting) {
      this.waiting.delete(id);
      answer({ kind: 'E', message: e.message, helper: true });
    }
  }
}

let helper: LockHelper | undefined;
let nextId = 1;

/**
 * Starts the helper now rather than at the first lock: for a command that knows it will
 * lock soon (a substitution, a build), so that the helper's start (a process and Perl's
 * own start, 15-25 ms here) runs beside the work before the lock, not in front of it.
 * Never called by a run that may find nothing to do: a no-op starts no process.
 */
export function startLockHelper(): void {
  helper ??= new LockHelper();
}

export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Lock> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const h = (helper ??= new LockHelper());
  const id = nextId++;
  const began = Date.now();
  let noticed = false;
  for (let delay = RETRY_FIRST_MS; ; delay = Math.min(RETRY_MAX_MS, delay * 2)) {
    if (opts.signal?.aborted) throw Object.assign(new Error(`waiting for lock ${file} was aborted`), { name: 'AbortError' });
    const reply = await h.request(`L ${id} ${opts.shared ? 's' : 'x'} ${file}`, id);
    if (reply.kind === 'G') break;
    if (reply.kind === 'E') {
      throw new SlimeError(reply.helper ? `cannot lock ${file}: ${reply.message}` : `cannot lock ${file}: ${reply.message}; check the store directory's permissions`);
    }
    if (!noticed && Date.now() - began >= WAIT_NOTICE_MS) {
      noticed = true;
      opts.onWait?.();
    }
    await sleep(delay, opts.signal);
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await h.request(`U ${id}`, id).catch(() => undefined);
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs `fn` while holding the lock. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
