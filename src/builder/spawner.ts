/**
 * Builders are started by a small helper process (perl, one per slime process), not by
 * slime's own process.
 *
 * Why: Node 20 starts a child with fork() (libuv 1.46), which copies the page tables of
 * the whole process on the event loop's thread: 2 ms from a bare Node, 6 ms from a
 * slime realizing a 300-derivation graph (~120 MB resident), and more as the heap
 * grows. A build of many small derivations spent a fifth of its time there. The helper
 * is a few MB, so its fork is cheap, and it forks on the other core while slime goes on.
 *
 * The helper is also the watchdog of every builder it started: when its stdin closes,
 * that is when slime is gone however it died, it kills every builder's process group
 * still running and exits.
 *
 * It learns of a builder's exit from SIGCHLD, whose handler wakes its select(2) through a
 * pipe to itself; and it looks for exited children at least every 0.25 s besides. Perl
 * runs a handler between two ops, so a SIGCHLD that lands after the last op before the
 * select system call wakes nothing: without the timeout, that builder's exit went
 * unreported and its build, and the whole realize, waited for ever (twice in some 60
 * builds of the 1000-derivation graph here, with nothing else running to wake the
 * helper). `SLIME_SPAWNER_TEST_LOSE_WAKEUPS=1` in the helper's environment makes the
 * handler do nothing, so that a test sees every exit found by the timeout alone.
 *
 * Protocol (one pipe each way; every string field is hex, so no byte needs quoting):
 *
 *   to the helper   = "S" SP id SP hex(cwd) SP argc (SP hex(arg))* SP envc (SP hex(k=v))*
 *                     SP fdc (SP fd SP mode SP hex(path))* SP pidns SP base SP build LF
 *                     start argv in a new process group with this cwd and exactly this
 *                     environment, stdin /dev/null, stdout and stderr to pipes of the
 *                     helper, and each fd (3 and up) opened on path: mode "r" to read,
 *                     "w" to write (created or truncated, 0600); pidns is "-", or
 *                     "<clone>,<prctl>" (the system call numbers) to start it in a PID
 *                     namespace of its own (see `pidNamespace`); base is "-", or the
 *                     operations of a build sandbox (./sandbox-setup.ts) to start it in,
 *                     build the build's own operations (cwd is then the sandbox's, and
 *                     there are no fds)
 *                   | "C" SP id LF
 *                     stop passing on its output: close the helper's ends of its pipes
 *                     (a process it left behind that still holds them gets EPIPE)
 *   from the helper = "P" SP id SP pid [SP init] LF started; pid is also its process group,
 *                                                   init the host pid of its sandbox's init
 *                   | "F" SP id SP hex(message) LF  could not be started (nothing runs)
 *                   | "O" SP id SP stream SP n LF <n bytes>
 *                                                   output: stream 1 stdout, 2 stderr
 *                   | "E" SP id SP stream LF        that stream reached its end
 *                   | "X" SP id SP code SP signal LF
 *                                                   it exited: code, or -1 and the signal number
 */
import { constants } from 'node:os';
import type { PassThrough } from 'node:stream';
import { SlimeError } from '../errors.js';
import { encodeOps, sandboxPerl, sandboxSyscalls, type SandboxSpec } from './sandbox-setup.js';

const childProcess = () => process.getBuiltinModule('node:child_process');

const helperSource = () => String.raw`use strict; use POSIX ();
$SIG{PIPE} = 'IGNORE';
my (%kid, %stream, %warm); my $in = ''; my $open = 1;
pipe(my $sigr, my $sigw) or die "pipe: $!";
$SIG{CHLD} = $ENV{SLIME_SPAWNER_TEST_LOSE_WAKEUPS} ? sub {} : sub { syswrite($sigw, 'x') };
sub out { my ($s) = @_; my $o = 0;
  while ($o < length $s) { my $n = syswrite(STDOUT, $s, length($s) - $o, $o);
    if (!defined $n) { next if $!{EINTR}; finish() } $o += $n } }
sub finish { kill 'KILL', map { -$_ } keys %kid, map { $_->{pid} } values %warm; POSIX::_exit(0) }
sub start { my ($id, $cwd, $argc, @f) = @_;
  my @argv = map { sb_hex($_) } splice(@f, 0, $argc);
  my @env = map { sb_hex($_) } splice(@f, 0, shift @f);
  my @fds; my $fdc = shift @f; push @fds, [splice(@f, 0, 3)] for 1 .. $fdc;
  my @ns = $f[0] eq '-' ? () : split /,/, $f[0];
  return sandboxed($id, $f[1], join(' ', $cwd, $argc, map({ unpack 'H*', $_ } @argv), scalar(@env), map({ unpack 'H*', $_ } @env), $f[2])) if $f[1] ne '-';
  pipe(my $or, my $ow) and pipe(my $er, my $ew) and pipe(my $xr, my $xw) or return out("F $id " . unpack('H*', "pipe: $!") . "\n");
  # With @ns the child is the init (pid 1) of a new PID namespace: clone(2) with CLONE_NEWPID
  # and SIGCHLD, and no stack of its own, is a fork whose child starts the namespace (Perl's
  # fork cannot be asked for one; unshare followed by a fork would leave the helper's next
  # children in that namespace too, and setns back needs privileges over the host's
  # namespace, which root in a user namespace lacks). One process fewer between the builder
  # and the helper than a child that makes the namespace for a grandchild: a fork on the way
  # in and an exit reaped on the way out. The init runs only Perl ops, system calls and a
  # fork before it exits.
  my $pid = @ns ? syscall($ns[0], 0x20000000 | 17, 0, 0, 0, 0) : fork;
  if (!defined $pid || $pid < 0) { return out("F $id " . unpack('H*', (@ns ? 'cannot make a PID namespace: ' : 'fork: ') . $!) . "\n") }
  if ($pid == 0) {
    eval {
      $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
      POSIX::setpgid(0, 0);
      chdir sb_hex($cwd) or die "cannot change to " . sb_hex($cwd) . ": $!\n";
      open(STDIN, '<', '/dev/null') or die "/dev/null: $!\n";
      POSIX::dup2(fileno $ow, 1) // die "dup2: $!\n";
      POSIX::dup2(fileno $ew, 2) // die "dup2: $!\n";
      for my $d (@fds) { my ($fd, $mode, $p) = ($d->[0], $d->[1], sb_hex($d->[2]));
        my $n = POSIX::open($p, $mode eq 'w' ? (POSIX::O_WRONLY() | POSIX::O_CREAT() | POSIX::O_TRUNC()) : POSIX::O_RDONLY(), 0600) // die "cannot open $p: $!\n";
        if ($n != $fd) { POSIX::dup2($n, $fd) // die "dup2: $!\n"; POSIX::close($n) } }
      %ENV = (); for (@env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
      if (@ns) {
        # This process is the init of the builder's PID namespace (the clone above): as unshare
        # --pid --fork --kill-child, with an init that runs the builder as its child (an
        # init has no default signal actions), reaps, and exits as it did.
        syscall($ns[1], 1, 9);
        pipe(my $yr, my $yw) or die "pipe: $!\n";
        my $b = fork // die "fork: $!\n";
        if ($b == 0) { close $yr; sb_close_others(fileno $yw, map { $_->[0] } @fds); { no warnings; exec { $argv[0] } @argv } syswrite($yw, "$!\n"); POSIX::_exit(127) }
        close $yw; my $e = sb_read_all($yr);
        if (length $e) { syswrite($xw, $e); POSIX::_exit(127) }
        close $xw; my $st = 0;
        while ((my $w = waitpid(-1, 0)) > 0) { if ($w == $b) { $st = $?; last } }
        POSIX::_exit(sb_code($st));
      }
      sb_close_others(fileno $xw, map { $_->[0] } @fds);
      { no warnings; exec { $argv[0] } @argv }
      die "$!\n";
    };
    syswrite($xw, $@ || "exec failed\n"); POSIX::_exit(127);
  }
  close $ow; close $ew; close $xw;
  my $err = sb_read_all($xr);
  close $xr;
  if (length $err) { waitpid($pid, 0); chomp $err; return out("F $id " . unpack('H*', $err) . "\n") }
  $kid{$pid} = $id;
  $stream{fileno $or} = [$or, $id, 1]; $stream{fileno $er} = [$er, $id, 2];
  out("P $id $pid\n");
}
${sandboxPerl(sandboxSyscalls() ?? '')}
# A sandboxed start takes the sandbox made ahead for its base (or makes one), and then
# makes the next build's while this one runs. When the one made ahead fails (its
# processes were killed meanwhile, or the error is the build's own) the start is tried
# once more in a sandbox made now, which fails the same way if the error is the build's.
sub inherited { ($sigr, $sigw, (map { $_->[0] } values %stream), map { @$_{qw(out err status rq)} } values %warm) }
sub sandboxed { my ($id, $base, $request) = @_;
  my ($sb, $init, $err);
  for my $ahead (delete($warm{$base}) // (), undef) {
    $sb = $ahead // eval { sb_prepare($base, inherited()) } // return out("F $id " . unpack('H*', $@) . "\n");
    ($init, $err) = sb_start($sb, $request);
    last if !defined $err;
    waitpid($sb->{pid}, 0); close $sb->{out}; close $sb->{err};
    last if !defined $ahead;
  }
  if (defined $err) { out("F $id " . unpack('H*', $err) . "\n") }
  else { $kid{$sb->{pid}} = $id; $stream{fileno $sb->{out}} = [$sb->{out}, $id, 1]; $stream{fileno $sb->{err}} = [$sb->{err}, $id, 2];
    out("P $id $sb->{pid} $init\n") }
  $warm{$base} = eval { sb_prepare($base, inherited()) } // return }
while (1) {
  my $rin = '';
  vec($rin, 0, 1) = 1 if $open; vec($rin, fileno $sigr, 1) = 1;
  vec($rin, $_, 1) = 1 for keys %stream;
  # Never without a timeout: Perl runs a signal handler between ops, so a SIGCHLD that
  # lands after the last op before select's system call wakes nothing, and the child it
  # announces would wait to be reaped, and its build to end, until some other event.
  my $n = select(my $rout = $rin, undef, undef, 0.25);
  if ($n < 0) { next if $!{EINTR}; die "select: $!" }
  # Lower descriptors first: a process's stdout was opened before its stderr.
  for my $fd (sort { $a <=> $b } keys %stream) { next unless vec($rout, $fd, 1); my ($fh, $id, $s) = @{$stream{$fd}};
    my $r = sysread($fh, my $buf, 65536); next if !defined $r && ($!{EINTR} || $!{EAGAIN});
    if (!$r) { close $fh; delete $stream{$fd}; out("E $id $s\n") } else { out("O $id $s $r\n$buf") } }
  if (vec($rout, fileno $sigr, 1)) { sysread($sigr, my $junk, 512) }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) { my $id = delete $kid{$pid}; next unless defined $id;
    my $st = $?; out("X $id " . ($st & 127 ? "-1 " . ($st & 127) : ($st >> 8) . " 0") . "\n") }
  if ($open && vec($rout, 0, 1)) { my $r = sysread(STDIN, $in, 65536, length $in);
    next if !defined $r && $!{EINTR};
    finish() if !$r;
    while ($in =~ s/^([^\n]*)\n//) { my @f = split / /, $1;
      if ($f[0] eq 'S') { start(@f[1 .. $#f]) }
      elsif ($f[0] eq 'C') { for my $fd (keys %stream) { if ($stream{$fd}[1] eq $f[1]) { close $stream{$fd}[0]; delete $stream{$fd} } } } } }
}`;

/** An extra descriptor of a process (3 and up), opened on a file: "r" to read, "w" to write (created or truncated). */
export interface FileDescriptor {
  fd: number;
  mode: 'r' | 'w';
  path: string;
}

export interface SpawnRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  fds?: FileDescriptor[];
  /**
   * Start it as the only process of a PID namespace of its own, under an init that the
   * helper forks itself (where `pidNamespaceSyscalls` says it can): when it exits, the
   * kernel ends everything it started.
   */
  pidNamespace?: boolean;
  /** Start it in a build sandbox made of these operations (./sandbox-setup.ts); `cwd` is then the sandbox's. */
  sandbox?: SandboxSpec;
}

/**
 * The system call numbers (clone, prctl) the helper makes a PID namespace with, on this
 * architecture; undefined on one not listed.
 */
export function pidNamespaceSyscalls(): string | undefined {
  return { x64: '56,157', arm64: '220,167' }[process.arch as string];
}

export interface ExitStatus {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * node:stream, loaded when the first build starts: main.ts imports this module (to end
 * the helper at exit), and a no-op realize writes its text without streams (cli/stdio.ts).
 */
const streams = () => process.getBuiltinModule('node:stream') as typeof import('node:stream');

/**
 * A process started by the helper: its pid (= its process group), its output as two
 * streams (buffered until read), and how it ended. `exited` is a promise, not an
 * event: the helper may report the exit in the same read as the start, before the
 * caller has had a turn to listen.
 */
export class SpawnedProcess {
  readonly stdout: PassThrough = new (streams().PassThrough)();
  readonly stderr: PassThrough = new (streams().PassThrough)();
  readonly exited: Promise<ExitStatus>;
  /** @internal */ exit!: (status: ExitStatus) => void;
  /** @internal What the helper has still to report: its two streams' ends and its exit. */ unreported = 3;
  constructor(
    readonly pid: number,
    private readonly forget: () => void,
    /** The host pid of its sandbox's init, when it runs in one: the build is over when that is gone. */
    readonly initPid?: number,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  /**
   * Stops passing on its output: for a process that exited while something it left
   * behind still holds its stdout or stderr. Its streams end here.
   */
  release(): void {
    this.forget();
  }
}

interface Pending {
  resolve: (p: SpawnedProcess) => void;
  reject: (e: Error) => void;
}

const hex = (s: string): string => Buffer.from(s).toString('hex');
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

class Spawner {
  private readonly helper;
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, SpawnedProcess>();
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor() {
    this.helper = childProcess().spawn('perl', ['-e', helperSource()], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.helper.on('error', (e) => this.fail(new SlimeError(`cannot start builders: perl cannot run (${e.message}); install Debian's perl-base`)));
    this.helper.on('exit', (code, signal) => this.fail(new SlimeError(`the process that starts builders (perl) ended (${signal ?? `exit ${code}`})`)));
    this.helper.stdin.on('error', () => undefined);
    this.helper.stdout.on('data', (chunk: Buffer) => this.read(chunk));
    // It must not keep slime alive: it lives as long as slime does, and no longer.
    this.helper.unref();
    this.unrefPipes();
  }

  spawn(req: SpawnRequest): Promise<SpawnedProcess> {
    if (this.failure) return Promise.reject(this.failure);
    const strings = [...req.argv, req.cwd, ...Object.entries(req.env).flat(), ...(req.fds ?? []).map((f) => f.path),
      ...(req.sandbox ? [...req.sandbox.base, ...req.sandbox.build].flat() : [])];
    const nul = strings.find((s) => s.includes('\0'));
    if (nul !== undefined) return Promise.reject(new SlimeError(`cannot start ${req.argv[0]}: ${JSON.stringify(nul)} holds a NUL byte`));
    const id = this.nextId++;
    const env = Object.entries(req.env).map(([k, v]) => hex(`${k}=${v}`));
    const fds = (req.fds ?? []).flatMap((f) => [String(f.fd), f.mode, hex(f.path)]);
    const pidns = req.pidNamespace ? pidNamespaceSyscalls() : '-';
    if (pidns === undefined) return Promise.reject(new SlimeError(`slime cannot make a PID namespace on ${process.arch}`));
    if (req.sandbox && sandboxSyscalls() === undefined) return Promise.reject(new SlimeError(`slime cannot make a build sandbox on ${process.arch}`));
    const sandbox = req.sandbox ? [encodeOps(req.sandbox.base), encodeOps(req.sandbox.build)] : ['-', '-'];
    const line = ['S', id, hex(req.cwd), req.argv.length, ...req.argv.map(hex), env.length, ...env, (req.fds ?? []).length, ...fds, pidns, ...sandbox].join(' ');
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.refPipes();
      this.helper.stdin.write(`${line}\n`);
    });
  }

  /** Parses the helper's messages (grammar at the top). */
  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      const nl = this.buffered.indexOf(0x0a);
      if (nl < 0) return;
      const [kind, idText, a, b] = this.buffered.toString('latin1', 0, nl).split(' ');
      const id = Number(idText);
      if (kind === 'O') {
        const n = Number(b);
        if (this.buffered.length < nl + 1 + n) return;
        const data = this.buffered.subarray(nl + 1, nl + 1 + n);
        this.buffered = this.buffered.subarray(nl + 1 + n);
        const p = this.running.get(id);
        if (p) (a === '1' ? p.stdout : p.stderr).write(Buffer.from(data));
        continue;
      }
      this.buffered = this.buffered.subarray(nl + 1);
      if (kind === 'P') {
        const p = new SpawnedProcess(Number(a), () => this.forget(id), b === undefined ? undefined : Number(b));
        this.running.set(id, p);
        this.settle(id)?.resolve(p);
      } else if (kind === 'F') {
        this.settle(id)?.reject(new SlimeError(Buffer.from(a, 'hex').toString()));
      } else if (kind === 'E') {
        const p = this.running.get(id);
        (a === '1' ? p?.stdout : p?.stderr)?.end();
        this.reported(id);
      } else if (kind === 'X') {
        this.running.get(id)?.exit({ code: a === '-1' ? null : Number(a), signal: a === '-1' ? (SIGNAL_NAMES.get(Number(b)) ?? null) : null });
        this.reported(id);
      }
    }
  }

  private forget(id: number): void {
    const p = this.running.get(id);
    if (!p) return;
    this.running.delete(id);
    this.idleCheck();
    for (const stream of [p.stdout, p.stderr]) if (!stream.destroyed) stream.end();
    if (!this.failure) this.helper.stdin.write(`C ${id}\n`);
  }

  /** The exit and the ends of the streams come in any order; the process is forgotten after the last. */
  private reported(id: number): void {
    const p = this.running.get(id);
    if (p && --p.unreported === 0) {
      this.running.delete(id);
      this.idleCheck();
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    this.idleCheck();
    return p;
  }

  /** While a builder runs or is being started, the helper's output keeps slime's event loop alive. */
  private idleCheck(): void {
    if (this.pending.size === 0 && this.running.size === 0) this.unrefPipes();
  }

  private refPipes(): void {
    (this.helper.stdout as unknown as { ref?: () => void }).ref?.();
  }

  private unrefPipes(): void {
    (this.helper.stdin as unknown as { unref?: () => void }).unref?.();
    (this.helper.stdout as unknown as { unref?: () => void }).unref?.();
  }

  /**
   * Ends the helper and resolves once it is gone and reaped: its stdin closes, it kills
   * whatever builder is left (none, once a command is done) and exits. Reaped by slime,
   * the helper's CPU time, and that of every builder it reaped, counts as slime's
   * children's (`time slime realize`, the benchmarks' CPU figures); a helper left to
   * exit after slime is reaped by init and its builders' CPU is counted nowhere.
   */
  stop(): Promise<void> {
    if (theSpawner === this) theSpawner = undefined;
    if (this.helper.exitCode !== null || this.helper.signalCode !== null || this.failure) return Promise.resolve();
    this.failure = new SlimeError('the process that starts builders was stopped');
    return new Promise((resolve) => {
      this.helper.once('exit', () => resolve());
      this.helper.once('error', () => resolve());
      this.helper.ref();
      this.helper.stdin.end();
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (theSpawner === this) theSpawner = undefined;
    for (const [, p] of this.pending) p.reject(this.failure);
    this.pending.clear();
    for (const [, p] of this.running) {
      p.stdout.end();
      p.stderr.end();
      p.exit({ code: null, signal: 'SIGKILL' });
    }
    this.running.clear();
  }
}

let theSpawner: Spawner | undefined;

/** Ends the helper, if one was started, and waits until it is reaped (see Spawner.stop). */
export function stopSpawner(): Promise<void> {
  return theSpawner?.stop() ?? Promise.resolve();
}

/** Starts a process through the helper (started with the first one). */
export function spawnProcess(req: SpawnRequest): Promise<SpawnedProcess> {
  theSpawner ??= new Spawner();
  return theSpawner.spawn(req);
}
