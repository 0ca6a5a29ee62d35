/**
 * How the build sandbox is made: Perl code that runs in the helper process of
 * ./spawner.ts (and once, alone, in the probe of ./sandbox.ts), and the list of
 * operations, made by ./sandbox.ts, that says what the sandbox's file system holds.
 *
 * Why not bubblewrap, which slime ran before: a sandbox's namespaces take most of its
 * cost (~4 ms of a ~6 ms bwrap here, the network namespace ~1 ms of it), and bwrap can
 * only make them after it was asked to run the builder. Made here, they are made ahead:
 * after each sandboxed start the helper makes the next sandbox up to everything that
 * does not depend on the build (its namespaces, /proc, /dev, /tmp, the system's
 * directories, /etc), on the other core while this build runs, and the next build
 * only binds its own directories into it, changes root and starts its builder. It is
 * what bwrap does, the same way (pivot_root into a tmpfs, each directory bound from
 * the old root, which is then detached), as Nix's own sandbox does it in its process.
 *
 * Processes of a sandboxed build, each the parent of the next:
 *
 *   outer   forked by the helper, in a process group of its own (the build's, which a
 *           timeout kills); makes the namespaces (user, mount, PID, IPC, UTS, cgroup,
 *           network unless the build may use it), maps uid 1000 / gid 100 inside to the
 *           user outside, forks init, tells the helper init's pid, and exits as init did
 *   init    pid 1 of the new PID namespace: makes the file system (the operations),
 *           waits for the build's request (a sandbox made ahead), binds the build's own
 *           directories, changes root, drops its capabilities, and forks the builder,
 *           then reaps whatever is reparented to it and exits as the builder did (a death
 *           by signal N as 128 + N). Its exit ends the namespace: the kernel kills every
 *           process of the build, a `setsid` daemon included. It dies with outer
 *           (PR_SET_PDEATHSIG), and outer with the helper.
 *   builder a new session (setsid), no_new_privs, uid 1000 without capabilities, in the
 *           build's cwd with exactly the build's environment
 *
 * Operations (`SandboxOp`): each is one hex token of its fields joined by NUL, and a
 * list of them is the tokens joined by ","; "-" is the empty list. A source is a path on
 * the host, a destination a path in the sandbox; directories on the way are made.
 *
 *   ro SRC DST         bind SRC at DST, read-only (not recursive: nothing mounted inside
 *                      SRC shows); a file is bound onto an empty file made for it
 *   rw SRC DST         the same, writable
 *   symlink TARGET DST
 *   dir DST MODE       a directory, MODE in octal
 *   file DST MODE TEXT a file holding TEXT
 *   proc DST           the PID namespace's /proc
 *   dev DST            a tmpfs with the host's null, zero, full, random, urandom and tty
 *                      bound in, fd/stdin/stdout/stderr/ptmx links, and its own devpts
 *   tmpfs DST MODE     an empty tmpfs
 *   remount-ro DST     the mount at DST made read-only
 *   share-net          (first, in the part made ahead) no network namespace: the host's
 *                      network, for a fixed-output derivation
 *
 * A request carries two lists: the part made ahead (`base`, the same for every build of
 * a process without the network, or with it) and the build's own part (`build`).
 */

export type SandboxOp =
  | ['ro' | 'rw', string, string]
  | ['symlink', string, string]
  | ['dir', string, string]
  | ['file', string, string, string]
  | ['proc', string]
  | ['dev', string]
  | ['tmpfs', string, string]
  | ['remount-ro', string]
  | ['share-net'];

export interface SandboxSpec {
  /** What does not depend on the build: a sandbox with this part is made ahead. */
  base: SandboxOp[];
  /** The build's own directories, bound when it starts. */
  build: SandboxOp[];
}

/** A list of operations as the helper reads it (grammar above). */
export function encodeOps(ops: SandboxOp[]): string {
  return ops.length ? ops.map((op) => Buffer.from(op.join('\0')).toString('hex')).join(',') : '-';
}

/** The system calls the sandbox makes, by number on this architecture; undefined on one not listed. */
export function sandboxSyscalls(): string | undefined {
  const numbers = {
    x64: { unshare: 272, mount: 165, umount2: 166, pivot_root: 155, sethostname: 170, prctl: 157, statfs: 137, capset: 126 },
    arm64: { unshare: 97, mount: 40, umount2: 39, pivot_root: 41, sethostname: 161, prctl: 167, statfs: 43, capset: 91 },
  }[process.arch as string];
  return numbers && Object.entries(numbers).map(([name, n]) => `${name} => ${n}`).join(', ');
}

/**
 * The Perl subs that make a sandbox. `sb_prepare(base, handles)` forks outer (which
 * closes the given handles of the caller's first) and returns the
 * sandbox's handles: {pid, rq (the request's pipe), out, err (the build's stdout and
 * stderr, to read), status}; `sb_start(sandbox, request)` hands it the build's request
 * (hex cwd, argc, argv, envc, env, the build's operations, as the helper's own "S" line)
 * and returns (init's pid, error): the error is set when the builder did not start.
 *
 * Status pipe, from outer and init to the helper: "I" SP pid LF, then "R" LF once the
 * builder's exec succeeded, or "E" SP hex(message) LF; a pipe that ends without either
 * (a sandbox made ahead whose processes died meanwhile) is an error too.
 */
export function sandboxPerl(syscalls: string): string {
  return String.raw`
my %SYS = (${syscalls});
my ($MS_RDONLY, $MS_NOSUID, $MS_NODEV, $MS_NOEXEC, $MS_REMOUNT, $MS_BIND, $MS_REC, $MS_SILENT, $MS_PRIVATE) =
  (1, 2, 4, 8, 32, 4096, 16384, 32768, 1 << 18);
sub sb_hex { pack 'H*', $_[0] }
# All a pipe holds until its last writer closes it (EINTR retried).
sub sb_read_all { my ($fh) = @_; my $s = '';
  while (1) { my $n = sysread($fh, $s, 65536, length $s); return $s if defined $n && $n == 0; next if !defined $n && $!{EINTR}; return $s if !defined $n } }
sub sb_code { my ($st) = @_; $st & 127 ? 128 + ($st & 127) : $st >> 8 }
sub sb_ops { my ($list) = @_; $list eq '-' ? () : map { [split /\0/, sb_hex($_), -1] } split /,/, $list }
# syscall passes a string as a pointer and a number as an int; it needs its own copies.
sub sb_mount { my ($src, $dst, $type, $flags, $data, $what) = @_;
  my @a = (defined $src ? "$src" : 0, "$dst", defined $type ? "$type" : 0, $flags + 0, defined $data ? "$data" : 0);
  syscall($SYS{mount}, $a[0], $a[1], $a[2], $a[3], $a[4]) == 0 or die "cannot $what: $!\n" }
# The nosuid, nodev and noexec flags of the mount at a path: a read-only remount must keep them.
sub sb_mount_flags { my $p = "$_[0]"; my $buf = "\0" x 120;
  syscall($SYS{statfs}, $p, $buf) == 0 or die "cannot read the mount flags of $_[0]: $!\n";
  unpack('Q', substr($buf, 80, 8)) & 14 }
sub sb_read_only { my ($d, $shown) = @_;
  sb_mount(undef, $d, undef, $MS_BIND | $MS_REMOUNT | $MS_RDONLY | sb_mount_flags($d), undef, "make $shown read-only in the sandbox") }
sub sb_mkpath { my ($d) = @_; my $p = '';
  for my $c (grep { length } split m{/}, $d) { $p .= "/$c"; next if -d $p; mkdir($p, 0755) or -d $p or die "cannot make $p in the sandbox: $!\n" } }
sub sb_parent { my ($p) = @_; $p =~ s{/[^/]*$}{}; $p }
sub sb_op { my ($op, @a) = @_;
  if ($op eq 'ro' || $op eq 'rw') { my ($src, $dst) = @a; my ($s, $d) = ("/oldroot$src", "/newroot$dst");
    if (-d $s) { sb_mkpath($d) }
    else { sb_mkpath(sb_parent($d)); if (!-e $d && !-l $d) { open(my $f, '>', $d) or die "cannot make $dst in the sandbox: $!\n"; close $f } }
    sb_mount($s, $d, undef, $MS_BIND, undef, "bind $src to $dst in the sandbox");
    sb_read_only($d, $dst) if $op eq 'ro' }
  elsif ($op eq 'symlink') { my ($target, $dst) = @a; sb_mkpath(sb_parent("/newroot$dst"));
    symlink($target, "/newroot$dst") or die "cannot make the link $dst in the sandbox: $!\n" }
  elsif ($op eq 'dir') { my ($dst, $mode) = @a; sb_mkpath("/newroot$dst"); chmod(oct $mode, "/newroot$dst") or die "cannot chmod $dst in the sandbox: $!\n" }
  elsif ($op eq 'file') { my ($dst, $mode, $text) = @a; sb_mkpath(sb_parent("/newroot$dst"));
    my $f; open($f, '>', "/newroot$dst") and print($f $text) and close($f) or die "cannot write $dst in the sandbox: $!\n";
    chmod(oct $mode, "/newroot$dst") }
  elsif ($op eq 'proc') { sb_mkpath("/newroot$a[0]"); sb_mount('proc', "/newroot$a[0]", 'proc', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC, undef, "mount $a[0] in the sandbox") }
  elsif ($op eq 'tmpfs') { my ($dst, $mode) = @a; sb_mkpath("/newroot$dst");
    sb_mount('tmpfs', "/newroot$dst", 'tmpfs', $MS_NOSUID | $MS_NODEV, "mode=$mode", "mount a tmpfs on $dst in the sandbox") }
  elsif ($op eq 'dev') { my $d = "/newroot$a[0]"; sb_mkpath($d);
    sb_mount('tmpfs', $d, 'tmpfs', $MS_NOSUID | $MS_NODEV, 'mode=0755', "mount $a[0] in the sandbox");
    for my $n (qw(null zero full random urandom tty)) {
      open(my $f, '>', "$d/$n") or die "cannot make $a[0]/$n in the sandbox: $!\n"; close $f;
      sb_mount("/oldroot/dev/$n", "$d/$n", undef, $MS_BIND, undef, "bind /dev/$n in the sandbox") }
    my %links = (fd => '/proc/self/fd', stdin => '/proc/self/fd/0', stdout => '/proc/self/fd/1', stderr => '/proc/self/fd/2', core => '/proc/kcore', ptmx => 'pts/ptmx');
    for my $n (sort keys %links) { symlink($links{$n}, "$d/$n") or die "cannot make $a[0]/$n in the sandbox: $!\n" }
    mkdir("$d/shm", 0755) and mkdir("$d/pts", 0755) or die "cannot make $a[0]/pts in the sandbox: $!\n";
    sb_mount('devpts', "$d/pts", 'devpts', $MS_NOSUID | $MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=620', "mount $a[0]/pts in the sandbox") }
  elsif ($op eq 'remount-ro') { sb_read_only("/newroot$a[0]", $a[0]) }
  elsif ($op ne 'share-net') { die "unknown sandbox operation $op\n" } }
# Every descriptor but stdin, stdout, stderr and those given: a builder inherits nothing
# else from whoever started slime (a make jobserver's pipe, a terminal). Only just before
# an exec: these are closed behind PerlIO's back.
sub sb_close_others { my %keep = map { $_ => 1 } @_; opendir(my $d, '/proc/self/fd') or return;
  my @fds = grep { /^\d+$/ && $_ > 2 && !$keep{$_} } readdir $d; closedir $d; POSIX::close($_) for @fds }
sub sb_status { my ($fh, $line) = @_; my $o = 0;
  while ($o < length $line) { my $n = syswrite($fh, $line, length($line) - $o, $o); if (!defined $n) { next if $!{EINTR}; last } $o += $n } }
sub sb_fail { my ($fh, $e) = @_; chomp $e; sb_status($fh, 'E ' . unpack('H*', $e) . "\n"); POSIX::_exit(127) }
sub sb_prepare { my ($base, @inherited) = @_;
  my %sb; pipe($sb{out}, my $ow) and pipe($sb{err}, my $ew) and pipe($sb{status}, my $xw) and pipe(my $rq, $sb{rq}) or die "pipe: $!\n";
  my $pid = fork // die "fork: $!\n";
  if ($pid) { close $ow; close $ew; close $xw; close $rq; $sb{pid} = $pid; return \%sb }
  $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
  eval {
    close $sb{rq};
    POSIX::setpgid(0, 0); syscall($SYS{prctl}, 1, 9);
    open(STDIN, '<', '/dev/null') or die "/dev/null: $!\n";
    POSIX::dup2(fileno $ow, 1) // die "dup2: $!\n"; POSIX::dup2(fileno $ew, 2) // die "dup2: $!\n";
    # The helper's pipes are not the sandbox's to hold (closed through Perl: a descriptor
    # closed behind PerlIO's back keeps its count, and a file opened later on the same
    # number would then never be closed: a file left open for writing on the sandbox's
    # root made its read-only remount fail with EBUSY).
    close $_ for grep { defined } @inherited;
    chdir '/';
    my @ops = sb_ops($base);
    my $net = grep { $_->[0] eq 'share-net' } @ops;
    my ($uid, $gid) = ($<, POSIX::getgid());
    syscall($SYS{unshare}, 0x10000000 | 0x20000 | 0x20000000 | 0x08000000 | 0x04000000 | 0x02000000 | ($net ? 0 : 0x40000000)) == 0
      or die "cannot make the sandbox's namespaces: $!\n";
    for (['/proc/self/setgroups', 'deny'], ['/proc/self/uid_map', "1000 $uid 1\n"], ['/proc/self/gid_map', "100 $gid 1\n"]) {
      my $f; open($f, '>', $_->[0]) and print($f $_->[1]) and close($f) or die "cannot write $_->[0]: $!\n" }
    my $init = fork // die "fork: $!\n";
    if ($init) { sb_status($xw, "I $init\n"); close $xw; close $rq; waitpid($init, 0); POSIX::_exit(sb_code($?)) }
    sb_init($xw, $rq, \@ops, $net);
  };
  sb_fail($xw, $@);
}
sub sb_init { my ($xw, $rq, $ops, $net) = @_;
  syscall($SYS{prctl}, 1, 9);
  sb_mount(undef, '/', undef, $MS_REC | $MS_PRIVATE | $MS_SILENT, undef, 'make the mounts private');
  sb_mount('tmpfs', '/tmp', 'tmpfs', $MS_NOSUID | $MS_NODEV, 'mode=0755', "mount the sandbox's root");
  chdir '/tmp' or die "/tmp: $!\n";
  mkdir('newroot', 0755) and mkdir('oldroot', 0755) or die "cannot make the sandbox's root: $!\n";
  sb_mount('newroot', 'newroot', undef, $MS_BIND | $MS_REC, undef, "bind the sandbox's root");
  syscall($SYS{pivot_root}, my $new = '/tmp', my $old = 'oldroot') == 0 or die "cannot change root: $!\n";
  chdir '/' or die "/: $!\n";
  syscall($SYS{sethostname}, my $host = 'localhost', 9) == 0 or die "cannot set the host name: $!\n";
  if (!$net) { socket(my $s, 2, 2, 0) or die "socket: $!\n";
    ioctl($s, 0x8914, my $ifr = pack('a16 s x22', 'lo', 1 | 8 | 64)) or die "cannot bring up the loopback interface: $!\n"; close $s }
  sb_op(@$_) for @$ops;
  # A sandbox made ahead waits here for its build; an end without one is no error.
  my $line = sb_read_all($rq); close $rq;
  POSIX::_exit(0) if $line eq '';
  chomp $line; my ($cwd, $argc, @f) = split / /, $line;
  my @argv = map { sb_hex($_) } splice(@f, 0, $argc);
  my @env = map { sb_hex($_) } splice(@f, 0, shift @f);
  sb_op(@$_) for sb_ops($f[0]);
  sb_mount('oldroot', 'oldroot', undef, $MS_REC | $MS_PRIVATE | $MS_SILENT, undef, 'make the old root private');
  syscall($SYS{umount2}, my $o = 'oldroot', 2) == 0 or die "cannot detach the old root: $!\n";
  chdir '/newroot' or die "/newroot: $!\n";
  syscall($SYS{pivot_root}, my $d1 = '.', my $d2 = '.') == 0 or die "cannot change root: $!\n";
  syscall($SYS{umount2}, my $d3 = '.', 2) == 0 or die "cannot detach the old root: $!\n";
  chdir '/' or die "/: $!\n";
  # No capabilities from here on (version 3 header, all sets empty).
  syscall($SYS{capset}, my $hdr = pack('LL', 0x20080522, 0), my $caps = pack('L6', 0, 0, 0, 0, 0, 0)) == 0 or die "cannot drop capabilities: $!\n";
  pipe(my $yr, my $yw) or die "pipe: $!\n";
  my $b = fork // die "fork: $!\n";
  if ($b == 0) { close $yr;
    POSIX::setsid(); syscall($SYS{prctl}, 38, 1, 0, 0, 0);
    chdir sb_hex($cwd) or do { syswrite($yw, "cannot change to " . sb_hex($cwd) . " in the sandbox: $!\n"); POSIX::_exit(127) };
    %ENV = (); for (@env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
    sb_close_others(fileno $yw);
    { no warnings; exec { $argv[0] } @argv } syswrite($yw, "cannot run builder $argv[0]: $!\n"); POSIX::_exit(127) }
  close $yw; my $e = sb_read_all($yr);
  sb_fail($xw, $e) if length $e;
  sb_status($xw, "R\n"); close $xw; my $st = 0;
  while ((my $w = waitpid(-1, 0)) > 0) { if ($w == $b) { $st = $?; last } }
  POSIX::_exit(sb_code($st));
}
sub sb_start { my ($sb, $request) = @_;
  { local $SIG{PIPE} = 'IGNORE'; sb_status($sb->{rq}, "$request\n") } close $sb->{rq};
  my $s = sb_read_all($sb->{status}); close $sb->{status};
  my ($init) = $s =~ /^I (\d+)$/m; my ($e) = $s =~ /^E ([0-9a-f]*)$/m;
  return ($init, defined $e ? sb_hex($e) : $s =~ /^R$/m ? undef : 'the sandbox ended before its builder started') }
`;
}
