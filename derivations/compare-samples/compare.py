"""Bit-exact verification of the SlimePython isolate against the CPython it embeds,
and of the Light tier's runners (a WebAssembly python3.11 under a WASI runtime).

Runs every sample listed in SAMPLES/manifest.json twice, once as
`PYTHON/bin/python3.11 FILE ARGS...` (or whichever python3.N the CPython prefix holds)
and once as `ISOLATE/bin/isolate FILE ARGS...` (Full tier) or
`RUNNER/bin/python3.11 FILE ARGS...` (Light tier: a launcher derivation), and compares
stdout bytes, stderr bytes and the way the process ended.

Usage (build.sh maps the derivation's environment onto these options):

    python3.11 compare.py --python DIR (--isolate DIR | --runner DIR --runner-label TEXT
                         [--native DIR --native-label TEXT])
                         --samples DIR --out DIR --work DIR [--timeout SECONDS]

--native (Light tier): a launcher of the same interpreter built natively (the RustPython
wasm runner's native twin). Each sample is then run a third time, under it, in the same
fresh copy, and records whether the runner wrote the same stdout, stderr and exit as the
native build ("native": "same" | "differs"); the report counts them ("native":
{"runner": label, "report": the launcher, "same": n, "differs": [names]}). The line
`slime-compare: same as LABEL: S/N (differs: ...); on the R samples that run here: s/R`
(and report.txt) also counts the samples that are not unsupported here: the issue's
"wasm == native on every sample that runs".

Every sample gets an outcome (report.json: "outcome", with a "note" for the last three):
    bit-exact    stdout, stderr and exit identical
    message      same behaviour, but the text of a message differs: same exit status,
                 same number of lines, and every differing line has the same text up to
                 its first ": " (an exception's type, a label); the note names the lines
    unsupported  the candidate lacks something the sample needs, found from the runs:
                 - it stopped on ModuleNotFoundError (the module), ImportError / a
                   module's missing attribute (the name), OSError ENOSYS/ENOTSUP (the
                   call), "can't start new thread" (threads), with its stdout up to
                   there a prefix of python3.11's (else: wrong);
                 - the runtime refused the exit status (wasmtime allows 0-125);
                 - python3.11 died by a signal and the candidate exited 128+N instead,
                   all output identical (no signals on the platform);
                 - the only differing lines name a lib-dynload file where the candidate
                   says built-in (no dynamic loading on the platform);
                 - the only differing lines are ones python3.11 itself prints
                   differently under PYTHONHASHSEED=1 (they show hash() values or an
                   order that follows them), and the candidate's hash() is narrower
                   (sys.hash_info.width: 32 bits on wasm32), found by a probe of each;
                 - a module python3.11 imports running the sample (`-X importtime`, a
                   separate run) cannot be imported by the candidate while python3.11
                   can (a probe run of each)
    wrong        anything else (and any sample whose reference run is itself wrong).
                 A candidate killed at the timeout is wrong with the note "timed out:
                 did not finish within N s, the limit per run; ..." (a run that gave
                 no result is neither a missing piece nor a message, and a hang is a
                 defect until shown otherwise; the note keeps it apart from a wrong
                 answer). A wrong sample's note and firstDifference point at its first
                 differing line that is not a lib-dynload file shown as built in, and
                 name the exception it stopped on if python3.11 did not.
The Full tier accepts only bit-exact (exit status 1 otherwise). For the Light tier
(--runner) the report is the product: every outcome is written down, the wrong samples
are named on stderr, and the exit status is 0. "pass" in the report is bit-exact in both.

Each run gets, and only gets, this environment:
    PYTHONHASHSEED=0  LC_ALL=C  TZ=UTC  PATH=<this process's PATH>  HOME=WORK/home
stdin is /dev/null, the working directory is WORK/run: a fresh writable copy of SAMPLES
made before every single run and deleted after it (HOME too is fresh and empty), so
neither interpreter sees files the other wrote, and both see the same absolute script
path (tracebacks print it).
The script is given relative to WORK/run (`dynamic/01_args_basic.py`), as a user types it.

A run is killed (its exit code is then reported as null) when it takes longer than the
timeout or writes more than OUTPUT_LIMIT bytes on one stream. A killed candidate's
firstDifference is its exit: {"stream": "exit", "python": "0", "isolate": "killed: did not
finish within 30 s"}, whatever it wrote before.

Besides being byte-identical to the isolate, the reference python must end as the
manifest says (exitCode, and signal for samples that die by one): otherwise a sample
that is broken on this python (say, a missing extension module raising ImportError in
both) would pass without testing anything.

Outputs:
    OUT/report.json  the machine-readable report (read by src/comparison/report.ts);
                     deterministic: no times, no temporary paths
    OUT/report.txt   the same for people, ending with a line `P/N bit-exact`
    WORK/report.json a copy: when a sample fails, this script exits 1, and a failed
                     build's OUT is never kept in the store; the build directory can be
                     kept, and the differences are also printed on stderr.

Progress on stdout, one line per event, read by src/builder/phases/sample-comparison.ts:
    slime-compare: N samples
    slime-compare: [I/N] pass NAME
    slime-compare: [I/N] fail NAME: REASON          (Light tier: REASON starts with the outcome)
    slime-compare: outcomes: B bit-exact, M message, U unsupported, W wrong   (Light tier)
    slime-compare: P/N bit-exact

Exit status: 0 when every sample passed (the Light tier: always, once the report is
written), 1 when any failed (after writing the report),
2 when the inputs are unusable (an interpreter missing or not runnable, an invalid
manifest); no report is written then.

Only the standard library: this runs under the CPython being verified.
"""

import argparse
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import time

PROGRESS = "slime-compare:"
# How a timed-out run's kill reason starts (collect_output).
TIMED_OUT = "did not finish within"
# What the report calls the interpreter compared with python: "isolate" or "runner".
CANDIDATE = "isolate"
# How much of a differing line the report quotes: enough to see the difference in
# context, little enough that one minified line cannot bloat the report.
QUOTE_CHARS = 160
# A run that writes more than this on one stream is killed: an isolate stuck in a loop
# that prints would otherwise fill the builder's memory before the timeout ends it.
OUTPUT_LIMIT = 16 * 1024 * 1024


class InputError(Exception):
    """The inputs cannot be verified at all (as opposed to a sample that differs)."""


class Sample:
    def __init__(self, entry, index, samples_dir):
        where = f"{os.path.join(samples_dir, 'manifest.json')}: samples[{index}]"

        def field(key, kind, default=None):
            value = entry.get(key, default)
            if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
                raise InputError(f"{where}.{key} must be {kind.__name__}, got {value!r}; fix the manifest entry")
            return value

        if not isinstance(entry, dict):
            raise InputError(f"{where} must be an object with name, file, category, exitCode; got {entry!r}")
        self.name = field("name", str)
        self.file = field("file", str)
        self.category = field("category", str)
        self.exit_code = field("exitCode", int)
        self.signal = entry.get("signal")
        self.args = field("args", list, [])
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise InputError(f"{where}.name {self.name!r} must be one word of letters, digits, _ . - (progress lines and reports quote it bare)")
        if os.path.isabs(self.file) or ".." in self.file.split("/") or not os.path.isfile(os.path.join(samples_dir, self.file)):
            raise InputError(f"{where}.file {self.file!r} is not a file inside {samples_dir}; give a relative path to an existing sample")
        if not all(isinstance(a, str) for a in self.args):
            raise InputError(f"{where}.args must be a list of strings, got {self.args!r}")
        if self.signal is not None:
            try:
                number = signal.Signals[self.signal]
            except KeyError:
                raise InputError(f"{where}.signal {self.signal!r} is not a signal name such as SIGINT") from None
            if self.exit_code != 128 + number:
                raise InputError(f"{where}: exitCode {self.exit_code} does not match signal {self.signal} (expected {128 + number})")
        elif not 0 <= self.exit_code <= 255:
            raise InputError(f"{where}.exitCode {self.exit_code} is not an exit status 0-255")


def load_manifest(samples_dir):
    path = os.path.join(samples_dir, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as exc:
        raise InputError(f"cannot read the sample manifest {path}: {exc.strerror}; the samples input must be the samples/ directory") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"the sample manifest {path} is not valid JSON: {exc}") from None
    entries = manifest.get("samples") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"the sample manifest {path} has no non-empty \"samples\" list")
    samples = [Sample(entry, i, samples_dir) for i, entry in enumerate(entries)]
    seen = set()
    for s in samples:
        if s.name in seen:
            raise InputError(f"the sample manifest {path} lists the name {s.name!r} twice; names must be unique")
        seen.add(s.name)
    return samples


class Run:
    """How one interpreter ran one sample."""

    def __init__(self, returncode, stdout, stderr, killed):
        self.stdout = stdout
        self.stderr = stderr
        # Why the runner killed the run ("did not finish within 30 s"), or None.
        self.killed = killed
        # A death by signal N is reported as 128+N, as a shell would, with the signal
        # named beside it so that a real `exit(130)` still differs from SIGINT.
        if killed:
            self.exit_code, self.signal = None, None
        elif returncode < 0:
            self.exit_code, self.signal = 128 - returncode, signal.Signals(-returncode).name
        else:
            self.exit_code, self.signal = returncode, None

    def describe_exit(self):
        if self.killed:
            return f"killed: {self.killed}"
        if self.signal:
            return f"{self.exit_code} (killed by {self.signal})"
        return str(self.exit_code)


def make_writable_copy(src, dst):
    # The samples input is a read-only store path; copytree would carry the read-only
    # modes over and the scratch copy could then neither be written nor removed.
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        target = os.path.normpath(os.path.join(dst, rel))
        os.makedirs(target, exist_ok=True)
        os.chmod(target, 0o755)
        for name in files:
            shutil.copyfile(os.path.join(root, name), os.path.join(target, name))
            os.chmod(os.path.join(target, name), 0o644)


def remove_tree(path):
    def make_writable_and_retry(func, p, _exc):
        os.chmod(os.path.dirname(p), stat.S_IRWXU)
        func(p)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=make_writable_and_retry)


def run_sample(interpreter, sample, samples_dir, work, env, timeout, options=(), argv=None):
    """One run in a fresh copy: `interpreter OPTIONS FILE ARGS`, or `interpreter ARGV`."""
    scratch, home = os.path.join(work, "run"), env["HOME"]
    for fresh in (scratch, home):
        remove_tree(fresh)
    make_writable_copy(samples_dir, scratch)
    os.makedirs(home)
    try:
        proc = subprocess.Popen(
            [interpreter, *options, sample.file, *sample.args] if argv is None else [interpreter, *argv],
            cwd=scratch, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            # Its own process group, so a timeout ends whatever the sample started.
            start_new_session=True,
        )
    except OSError as exc:
        raise InputError(f"cannot start {interpreter}: {exc.strerror}; it must be an executable for this machine") from None
    out, err, killed = collect_output(proc, timeout)
    kill_group(proc.pid)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    for fresh in (scratch, home):
        remove_tree(fresh)
    return Run(proc.returncode, out, err, killed)


def collect_output(proc, timeout):
    """Reads both pipes to the end, unless the run outlives `timeout` or writes more
    than OUTPUT_LIMIT on a stream; then its process group is killed, and the reason
    is returned with what was read so far."""
    deadline = time.monotonic() + timeout
    chunks = {"stdout": [], "stderr": []}
    sizes = {"stdout": 0, "stderr": 0}
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
        selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_group(proc.pid)
                return b"".join(chunks["stdout"]), b"".join(chunks["stderr"]), f"{TIMED_OUT} {timeout:g} s"
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.data].append(data)
                sizes[key.data] += len(data)
                if sizes[key.data] > OUTPUT_LIMIT:
                    kill_group(proc.pid)
                    return (b"".join(chunks["stdout"]), b"".join(chunks["stderr"]),
                            f"wrote more than {OUTPUT_LIMIT // (1024 * 1024)} MiB on {key.data}")
    try:
        proc.wait(timeout=max(0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        # It closed both pipes but kept running.
        kill_group(proc.pid)
        return b"".join(chunks["stdout"]), b"".join(chunks["stderr"]), f"{TIMED_OUT} {timeout:g} s"
    return b"".join(chunks["stdout"]), b"".join(chunks["stderr"]), None


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def split_lines(data):
    """Lines with their terminators, so that a missing final newline is a difference."""
    lines = re.split(rb"(?<=\n)", data)
    return lines[:-1] if lines[-1] == b"" else lines


def quote(line, column):
    if line is None:
        return "[end of output]"
    text = line.decode("utf-8", "backslashreplace")
    ended = text.endswith("\n")
    text = text[:-1] if ended else text
    text = "".join(c if c.isprintable() or c == "\t" else f"\\x{ord(c):02x}" for c in text)
    start = max(0, min(column, len(text)) - QUOTE_CHARS // 2)
    shown = ("…" if start else "") + text[start:start + QUOTE_CHARS] + ("…" if len(text) > start + QUOTE_CHARS else "")
    return shown if ended else shown + " [no newline at end]"


def line_difference(stream, python_bytes, isolate_bytes, alike=bytes.__eq__):
    """The first line where the two streams differ (lines for which `alike` holds count
    as the same), or None."""
    a, b = split_lines(python_bytes), split_lines(isolate_bytes)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x is None or y is None or not alike(x, y):
            tx = (x or b"").decode("utf-8", "backslashreplace")
            ty = (y or b"").decode("utf-8", "backslashreplace")
            column = next((j for j, (p, q) in enumerate(zip(tx, ty)) if p != q), min(len(tx), len(ty)))
            return {"stream": stream, "line": i + 1, "python": quote(x, column), "isolate": quote(y, column)}
    return None


def output_difference(py, iso, alike=bytes.__eq__):
    """The first differing line of stdout, else of stderr, or None."""
    for stream in ("stdout", "stderr"):
        difference = line_difference(stream, getattr(py, stream), getattr(iso, stream), alike)
        if difference is not None:
            return difference
    return None


def compare(sample, py, iso):
    """Returns (first difference or None, problem with the reference run or None).
    A killed candidate's difference is its exit ("killed: did not finish within 30 s"),
    whatever it wrote before: the kill is what went wrong first."""
    if iso.killed and not py.killed:
        difference = {"stream": "exit", "python": py.describe_exit(), "isolate": iso.describe_exit()}
    else:
        difference = output_difference(py, iso)
    if difference is None and (py.exit_code, py.signal, py.killed) != (iso.exit_code, iso.signal, iso.killed):
        difference = {"stream": "exit", "python": py.describe_exit(), "isolate": iso.describe_exit()}
    problem = None
    if py.killed:
        problem = f"the reference python {py.killed} and was killed"
    elif (py.exit_code, py.signal) != (sample.exit_code, sample.signal):
        expected = f"{sample.exit_code}" + (f" (killed by {sample.signal})" if sample.signal else "")
        problem = (f"the reference python exited {py.describe_exit()} but the manifest expects {expected}: "
                   f"the sample does not do what it is meant to on this python")
    return difference, problem


EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): (.*)$")


def final_exception(stderr):
    """The `Type: message` line that ends a traceback on stderr, or None."""
    lines = stderr.decode("utf-8", "backslashreplace").rstrip("\n").split("\n")
    if not any(line.startswith("Traceback (most recent call last):") for line in lines):
        return None
    match = EXCEPTION_LINE.match(lines[-1])
    return (match.group(1), match.group(2)) if match else None


def missing_piece(kind, message):
    """What the platform lacks, from the exception the candidate ended with, or None."""
    if kind == "ModuleNotFoundError":
        match = re.match(r"No module named '([^']+)'", message)
        return f"module {match.group(1)}" if match else None
    if kind == "ImportError":
        match = re.match(r"cannot import name '([^']+)' from '([^']+)'", message)
        return f"{match.group(2)}.{match.group(1)}" if match else None
    if kind == "AttributeError":
        match = re.match(r"module '([^']+)' has no attribute '([^']+)'", message)
        return f"{match.group(1)}.{match.group(2)}" if match else None
    if kind in ("OSError", "PermissionError") and re.match(r"\[Errno \d+\] (Not supported|Function not implemented|Operation not supported)", message):
        return f"a system call ({message})"
    if kind == "RuntimeError" and message.startswith("can't start new thread"):
        return "threads"
    return None


def message_lines(py_bytes, cand_bytes):
    """1-based numbers of the lines that differ only in a message's text, or None when
    the streams differ in more than that."""
    a, b = split_lines(py_bytes), split_lines(cand_bytes)
    if len(a) != len(b):
        return None
    differing = []
    for i, (x, y) in enumerate(zip(a, b), 1):
        if x == y:
            continue
        head_x, sep_x, _ = x.partition(b": ")
        head_y, sep_y, _ = y.partition(b": ")
        if not (sep_x and sep_y and head_x == head_y):
            return None
        differing.append(i)
    return differing


def explained_by_built_in(x, y):
    """A line where python3.11 names a module's lib-dynload file and the candidate says
    it is built in, the rest of the line before that alike (the dynload samples print
    `_json: lib-dynload/_json.cpython-311-x86_64-linux-gnu.so`)."""
    if x == y:
        return True
    head_x, sep_x, tail_x = x.partition(b": ")
    head_y, sep_y, tail_y = y.partition(b": ")
    return bool(sep_x and sep_y and head_x == head_y and tail_x.startswith(b"lib-dynload/") and tail_y.startswith(b"built-in"))


def built_in_lines(py_bytes, cand_bytes):
    """How many lines differ only as explained_by_built_in, or None when others differ."""
    a, b = split_lines(py_bytes), split_lines(cand_bytes)
    if len(a) != len(b) or not all(explained_by_built_in(x, y) for x, y in zip(a, b)):
        return None
    return sum(x != y for x, y in zip(a, b))


def prefix_of(py_bytes, cand_bytes):
    """The candidate's stdout is the start of python3.11's (built-in lines allowed)."""
    a, b = split_lines(py_bytes), split_lines(cand_bytes)
    return len(b) <= len(a) and all(explained_by_built_in(x, y) for x, y in zip(a, b[:-1])) and (
        not b or a[len(b) - 1].startswith(b[-1]) or explained_by_built_in(a[len(b) - 1], b[-1]))


RUNTIME_EXIT_LIMIT = re.compile(rb"exit with invalid exit status outside of \[0\.\.(\d+)\)")


def classify(sample, py, cand, difference, problem, missing_modules, hash_explained=lambda: None):
    """(outcome, note) of one sample; note is None for bit-exact. `missing_modules()`
    names the modules the sample imported under python3.11 that the candidate lacks;
    `hash_explained()` is the note when the candidate's narrower hash() accounts for
    every differing line (see narrower_hash), else None."""
    if problem is not None:
        return "wrong", problem
    if difference is None:
        return "bit-exact", None
    if cand.killed:
        # Neither a missing piece nor a message: the run gave no result to compare. It
        # counts as wrong (a hang is a defect until shown otherwise), and says so.
        what = "timed out" if cand.killed.startswith(TIMED_OUT) else "killed"
        return "wrong", f"{what}: {cand.killed}, the limit per run; python3.11 exited {py.describe_exit()}; {until_killed(py, cand)}"
    ended = final_exception(cand.stderr)
    if ended is not None and not cand.killed and final_exception(py.stderr) != ended:
        piece = missing_piece(*ended)
        if piece is not None:
            if prefix_of(py.stdout, cand.stdout):
                return "unsupported", f"needs {piece}: {ended[0]}: {ended[1]}"[:QUOTE_CHARS]
            return "wrong", f"stopped on a missing {piece}, but its output before that already differs"
    limit = RUNTIME_EXIT_LIMIT.search(cand.stderr)
    if limit and py.exit_code is not None and py.exit_code >= int(limit.group(1)) and prefix_of(py.stdout, cand.stdout):
        return "unsupported", f"needs exit status {py.exit_code}: the runtime allows only 0-{int(limit.group(1)) - 1}"
    if (py.signal is not None and cand.signal is None and not cand.killed and cand.exit_code == py.exit_code
            and (py.stdout, py.stderr) == (cand.stdout, cand.stderr)):
        return "unsupported", f"needs signals: python3.11 dies by {py.signal}, here it exits {cand.exit_code}"
    same_exit = (py.exit_code, py.signal, py.killed) == (cand.exit_code, cand.signal, cand.killed)
    # The two explanations that account for every differing line come first: a module
    # python3.11 imported but the candidate lacks may not be why the output differs.
    if same_exit:
        built_in = [built_in_lines(getattr(py, stream), getattr(cand, stream)) for stream in ("stdout", "stderr")]
        if all(n is not None for n in built_in):
            return "unsupported", (f"needs dynamic loading: {sum(built_in)} line(s) name a lib-dynload module "
                                   f"that is built in here, all else is identical")
        narrower = hash_explained()
        if narrower is not None:
            return "unsupported", narrower
    missing = missing_modules()
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        return "unsupported", f"needs module{'s' if len(missing) > 1 else ''} {shown}: imported under python3.11, missing here"
    if same_exit:
        lines = {stream: message_lines(getattr(py, stream), getattr(cand, stream)) for stream in ("stdout", "stderr")}
        if all(v is not None for v in lines.values()):
            where = "; ".join(f"{stream} line{'s' if len(v) > 1 else ''} {', '.join(map(str, v))}"
                              for stream, v in lines.items() if v)
            return "message", f"message text differs at {where}"
    reason = reason_of({"firstDifference": difference})
    if ended is not None and final_exception(py.stderr) != ended:
        reason += f"; it stopped on {ended[0]}: {ended[1]}"
    return "wrong", reason[:2 * QUOTE_CHARS]


def until_killed(py, cand):
    """What a killed candidate had written: the start of python3.11's output, or where it
    already differed."""
    before = significant_difference(py, cand)
    if before is None or prefix_of(py.stdout, cand.stdout) and prefix_of(py.stderr, cand.stderr):
        return "its output until then is the start of python3.11's"
    return f"its output already differed at {before['stream']} line {before['line']}"


def significant_difference(py, cand):
    """The first differing line that is not a lib-dynload file shown as built in, or None
    when those are the only differences: what a wrong sample's report points at."""
    return output_difference(py, cand, explained_by_built_in)


def differing_lines(a_bytes, b_bytes):
    """1-based numbers of the lines that differ, or None when the line counts differ."""
    a, b = split_lines(a_bytes), split_lines(b_bytes)
    if len(a) != len(b):
        return None
    return {i for i, (x, y) in enumerate(zip(a, b), 1) if x != y}


HASH_WIDTH = "import sys\nprint(sys.hash_info.width)\n"


def narrower_hash(python, candidate, sample, samples_dir, work, env, timeout, py, cand):
    """The note when every line where the candidate differs is one that python3.11
    itself prints differently under another hash seed, and the candidate's hash() is
    narrower than python3.11's: the sample shows hash values (or an order that follows
    them), which a 32-bit platform cannot reproduce. Else None. Runs python3.11 once
    more (PYTHONHASHSEED=1) and a probe of sys.hash_info.width under each."""
    widths = []
    for interpreter in (python, candidate):
        probe = run_sample(interpreter, sample, samples_dir, work, env, timeout, argv=["-c", HASH_WIDTH])
        text = probe.stdout.decode("utf-8", "replace").strip()
        if probe.exit_code != 0 or not text.isdigit():
            return None
        widths.append(int(text))
    if widths[1] >= widths[0]:
        return None
    reseeded = run_sample(python, sample, samples_dir, work, {**env, "PYTHONHASHSEED": "1"}, timeout)
    where = []
    for stream in ("stdout", "stderr"):
        differ = differing_lines(getattr(py, stream), getattr(cand, stream))
        seeded = differing_lines(getattr(py, stream), getattr(reseeded, stream))
        if differ is None or seeded is None or not differ <= seeded:
            return None
        if differ:
            where.append(f"{stream} line{'s' if len(differ) > 1 else ''} {', '.join(map(str, sorted(differ)))}")
    return (f"needs a {widths[0]}-bit hash(): {'; '.join(where)} follow hash values (python3.11 prints them "
            f"differently under PYTHONHASHSEED=1), and hash() is {widths[1]} bits wide here")[:2 * QUOTE_CHARS]


IMPORT_TIME = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")
PROBE = "import importlib, sys\nfor n in sys.argv[1:]:\n    try:\n        importlib.import_module(n)\n    except ImportError:\n        print(n)\n"


def modules_missing(python, candidate, sample, samples_dir, work, env, timeout):
    """The modules python3.11 imports running the sample (`-X importtime`) that the
    candidate cannot import, in the order python3.11 imported them."""
    traced = run_sample(python, sample, samples_dir, work, env, timeout, options=("-X", "importtime"))
    names = []
    for line in traced.stderr.decode("utf-8", "replace").splitlines():
        match = IMPORT_TIME.match(line)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    if not names:
        return []
    # -X importtime also lists imports that failed (site's sitecustomize): only what
    # python3.11 itself can import counts.
    def absent(interpreter):
        probe = run_sample(interpreter, sample, samples_dir, work, env, timeout, argv=["-c", PROBE, *names])
        return set(probe.stdout.decode("utf-8", "replace").split())
    lacking = absent(candidate) - absent(python)
    return [n for n in names if n in lacking]


def digest(data):
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def reason_of(result):
    d = result.get("firstDifference")
    if d is None:
        return result["problem"]
    if d["stream"] == "exit" and d["isolate"].startswith("killed: "):
        return f"{CANDIDATE} {d['isolate']}; python exited {d['python']}"
    if d["stream"] == "exit":
        return f"exit differs: python {d['python']}, {CANDIDATE} {d['isolate']}"
    return f"{d['stream']} differs at line {d['line']}"


def light_reason_of(result):
    return f"{result['outcome']}: {result['note']}"


def details_of(result):
    lines = [f"{result['name']} ({result['file']}): {reason_of(result)}"]
    d = result.get("firstDifference")
    if d is not None and d["stream"] != "exit":
        lines += [f"    python:  {d['python']}", f"    {CANDIDATE + ':':<8} {d['isolate']}"]
    if d is not None and result.get("problem"):
        lines.append(f"    also: {result['problem']}")
    return lines


OUTCOMES = ("bit-exact", "message", "unsupported", "wrong")
OUTCOME_MARK = {"message": "MSG ", "unsupported": "UNSP", "wrong": "FAIL"}


def count_outcomes(results):
    return {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}


def outcomes_line(counts):
    return ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)


def text_report(report):
    if "runner" in report:
        out = [f"slime verify: the Light tier's {report['runner']} against CPython",
               f"python: {report['python']}", f"runner: {report['isolate']}", ""]
    else:
        out = ["slime verify: bit-exact comparison of the isolate with CPython",
               f"python:  {report['python']}", f"isolate: {report['isolate']}", ""]
    for r in report["samples"]:
        label = f"{r['category']}/{r['name']}"
        if r["pass"]:
            out.append(f"pass  {label:<44} stdout {r['stdout']['python']['bytes']:>5} B  "
                       f"stderr {r['stderr']['python']['bytes']:>5} B  exit {r['exitCode']['python']}")
        else:
            first, *rest = details_of(r)
            reason = first.split(': ', 1)[1]
            if "runner" in report:
                reason = f"{r['outcome']}: {r['note']}"
            out.append(f"{OUTCOME_MARK[r['outcome']]}  {label:<44} {reason}")
            out += ["    " + line for line in rest]
    if "runner" in report:
        out += ["", f"outcomes: {outcomes_line(report['outcomes'])}"]
    if "native" in report:
        out.append(native_line(report))
    out += ["", f"{report['passed']}/{report['total']} bit-exact"] if "runner" not in report else [f"{report['passed']}/{report['total']} bit-exact"]
    return "\n".join(out) + "\n"


def native_line(report):
    """How often the runner did what its native twin did: on all samples, and on those
    that run here (every outcome but unsupported: a piece the platform lacks is a
    reason to differ from the native build, nothing else is)."""
    n = report["native"]
    running = [r for r in report["samples"] if r["outcome"] != "unsupported"]
    return (f"same as {n['runner']}: {n['same']}/{report['total']}"
            + (f" (differs: {', '.join(n['differs'])})" if n["differs"] else "")
            + f"; on the {len(running)} samples that run here: {sum(r['native'] == 'same' for r in running)}/{len(running)}")


def progress(message):
    print(f"{PROGRESS} {message}", flush=True)


def interpreter_in(prefix, relative, role):
    path = os.path.join(prefix, relative)
    if not os.access(path, os.X_OK):
        raise InputError(f"the {role} {path} does not exist or is not executable; "
                         f"--{role} must be a store path containing {relative}")
    return path


def cpython_in(prefix):
    """PREFIX/bin/python3.N: `make altinstall` installs no plain python3, and the
    version is whatever the CPython derivation built (3.11 for the Full tier)."""
    bin_dir = os.path.join(prefix, "bin")
    try:
        names = sorted(n for n in os.listdir(bin_dir) if re.fullmatch(r"python3\.\d+", n))
    except OSError as exc:
        raise InputError(f"cannot list {bin_dir}: {exc.strerror}; --python must be a CPython install prefix") from None
    if len(names) != 1:
        raise InputError(f"{bin_dir} holds {names or 'no python3.N'}; --python must be the prefix of exactly one CPython install")
    return interpreter_in(prefix, f"bin/{names[0]}", "python")


def main(argv):
    parser = argparse.ArgumentParser(description="Compare the isolate with CPython on every sample, byte for byte.")
    parser.add_argument("--python", required=True, help="CPython install prefix (runs its bin/python3.N)")
    candidate = parser.add_mutually_exclusive_group(required=True)
    candidate.add_argument("--isolate", help="isolate install prefix (runs bin/isolate): the Full tier")
    candidate.add_argument("--runner", help="a Light tier launcher's prefix (runs bin/python3.11)")
    parser.add_argument("--runner-label", help="how reports name the runner (with --runner)")
    parser.add_argument("--native", help="with --runner: a launcher of the same interpreter built natively (runs bin/python3.11)")
    parser.add_argument("--native-label", help="how reports name the native launcher (with --native)")
    parser.add_argument("--samples", required=True, help="directory holding manifest.json and the samples")
    parser.add_argument("--out", required=True, help="where report.json and report.txt are written")
    parser.add_argument("--work", required=True, help="scratch directory for the runs (inside the build directory)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one run may take (default 30)")
    opts = parser.parse_args(argv)

    global CANDIDATE
    light = opts.runner is not None
    if light and not opts.runner_label:
        print(f"{PROGRESS} error: --runner needs --runner-label (how the report names the runner)", file=sys.stderr)
        return 2
    CANDIDATE = "runner" if light else "isolate"
    if opts.native is not None and not (light and opts.native_label):
        print(f"{PROGRESS} error: --native is for a Light tier runner (--runner) and needs --native-label", file=sys.stderr)
        return 2
    try:
        python = cpython_in(opts.python)
        if light:
            isolate = interpreter_in(opts.runner, "bin/python3.11", "runner")
            native = interpreter_in(opts.native, "bin/python3.11", "native") if opts.native else None
        else:
            isolate = interpreter_in(opts.isolate, "bin/isolate", "isolate")
        samples = load_manifest(opts.samples)
    except InputError as exc:
        print(f"{PROGRESS} error: {exc}", file=sys.stderr)
        return 2

    work = os.path.abspath(opts.work)
    os.makedirs(work, exist_ok=True)
    env = {"PYTHONHASHSEED": "0", "LC_ALL": "C", "TZ": "UTC",
           "PATH": os.environ.get("PATH", os.defpath), "HOME": os.path.join(work, "home")}

    total = len(samples)
    progress(f"{total} samples")
    results = []
    for index, sample in enumerate(samples, 1):
        try:
            py = run_sample(python, sample, opts.samples, work, env, opts.timeout)
            iso = run_sample(isolate, sample, opts.samples, work, env, opts.timeout)
            twin = run_sample(native, sample, opts.samples, work, env, opts.timeout) if opts.native else None
        except InputError as exc:
            print(f"{PROGRESS} error: {exc}", file=sys.stderr)
            return 2
        difference, problem = compare(sample, py, iso)
        if light and difference is not None and difference["stream"] != "exit":
            # Lines that only say where a module was loaded from are not the difference
            # a wrong sample is about (dynamic loading is classified on its own).
            difference = significant_difference(py, iso) or difference
        result = {
            "name": sample.name,
            "category": sample.category,
            "file": sample.file,
            "args": sample.args,
            "expectedExitCode": sample.exit_code,
            "exitCode": {"python": py.exit_code, "isolate": iso.exit_code},
            "signal": {"python": py.signal, "isolate": iso.signal},
            "stdout": {"python": digest(py.stdout), "isolate": digest(iso.stdout)},
            "stderr": {"python": digest(py.stderr), "isolate": digest(iso.stderr)},
            "pass": difference is None and problem is None,
        }
        if difference is not None:
            result["firstDifference"] = difference
        if problem is not None:
            result["problem"] = problem
        if twin is not None:
            alike = (twin.stdout, twin.stderr, twin.exit_code, twin.signal, twin.killed) == (iso.stdout, iso.stderr, iso.exit_code, iso.signal, iso.killed)
            result["native"] = "same" if alike else "differs"
        if light:
            result["outcome"], note = classify(
                sample, py, iso, difference, problem,
                lambda: modules_missing(python, isolate, sample, opts.samples, work, env, opts.timeout),
                lambda: narrower_hash(python, isolate, sample, opts.samples, work, env, opts.timeout, py, iso))
            if note is not None:
                result["note"] = note
        else:
            result["outcome"] = "bit-exact" if result["pass"] else "wrong"
        results.append(result)
        if result["pass"]:
            progress(f"[{index}/{total}] pass {sample.name}")
        else:
            progress(f"[{index}/{total}] fail {sample.name}: {light_reason_of(result) if light else reason_of(result)}")
            for line in details_of(result):
                print(f"{PROGRESS} {line}", file=sys.stderr, flush=True)

    passed = sum(r["pass"] for r in results)
    counts = count_outcomes(results)
    report = {"python": opts.python, "isolate": opts.runner if light else opts.isolate, "timeoutSeconds": opts.timeout,
              "total": total, "passed": passed, "outcomes": counts, "samples": results}
    if light:
        report = {"tier": "light", "runner": opts.runner_label, **report}
    if opts.native:
        report["native"] = {"runner": opts.native_label, "report": opts.native,
                            "same": sum(r["native"] == "same" for r in results),
                            "differs": [r["name"] for r in results if r["native"] == "differs"]}
    encoded = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    os.makedirs(opts.out, exist_ok=True)
    for directory in (opts.out, work):
        with open(os.path.join(directory, "report.json"), "w", encoding="utf-8") as f:
            f.write(encoded)
    with open(os.path.join(opts.out, "report.txt"), "w", encoding="utf-8") as f:
        f.write(text_report(report))
    if light:
        progress(f"outcomes: {outcomes_line(counts)}")
    if opts.native:
        progress(native_line(report))
    progress(f"{passed}/{total} bit-exact")

    failed = [r["name"] for r in results if (r["outcome"] == "wrong" if light else not r["pass"])]
    if failed and light:
        # The Light tier's report is its product: a wrong sample is reported, not fatal.
        print(f"{PROGRESS} {len(failed)} of {total} samples are wrong: {', '.join(failed)}; see report.txt", file=sys.stderr, flush=True)
        return 0
    if failed:
        # The store keeps no output of a failed build: say here where else to look.
        what = "wrong" if light else "not bit-exact"
        print(f"{PROGRESS} {len(failed)} of {total} samples are {what}: {', '.join(failed)}; "
              f"the differences are listed above and in {os.path.join(work, 'report.json')} "
              f"(kept only if the build directory is kept)", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
