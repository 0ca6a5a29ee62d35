"""Bit-exact verification of the SlimePython isolate against the CPython it embeds.

Runs every sample listed in SAMPLES/manifest.json twice, once as
`PYTHON/bin/python3.11 FILE ARGS...` (or whichever python3.N the CPython prefix holds)
and once as `ISOLATE/bin/isolate FILE ARGS...`, and compares stdout bytes, stderr bytes
and the way the process ended.

Usage (build.sh maps the derivation's environment onto these options):

    python3.11 verify.py --python DIR --isolate DIR --samples DIR --out DIR --work DIR
                         [--timeout SECONDS]

Each run gets, and only gets, this environment:
    PYTHONHASHSEED=0  LC_ALL=C  TZ=UTC  PATH=<this process's PATH>  HOME=WORK/home
stdin is /dev/null, the working directory is WORK/run: a fresh writable copy of SAMPLES
made before every single run and deleted after it (HOME too is fresh and empty), so
neither interpreter sees files the other wrote, and both see the same absolute script
path (tracebacks print it).
The script is given relative to WORK/run (`dynamic/01_args_basic.py`), as a user types it.

A run is killed (its exit code is then reported as null) when it takes longer than the
timeout or writes more than OUTPUT_LIMIT bytes on one stream.

Besides being byte-identical to the isolate, the reference python must end as the
manifest says (exitCode, and signal for samples that die by one): otherwise a sample
that is broken on this python (say, a missing extension module raising ImportError in
both) would pass without testing anything.

Outputs:
    OUT/report.json  the machine-readable report (read by src/verify/report.ts);
                     deterministic: no times, no temporary paths
    OUT/report.txt   the same for people, ending with a line `P/N bit-exact`
    WORK/report.json a copy: when a sample fails, this script exits 1, and a failed
                     build's OUT is never kept in the store; the build directory can be
                     kept, and the differences are also printed on stderr.

Progress on stdout, one line per event, read by src/builder/phases/verify.ts:
    slime-verify: N samples
    slime-verify: [I/N] pass NAME
    slime-verify: [I/N] fail NAME: REASON
    slime-verify: P/N bit-exact

Exit status: 0 when every sample passed, 1 when any failed (after writing the report),
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

PROGRESS = "slime-verify:"
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
            return f"{self.killed} (killed)"
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


def run_sample(interpreter, sample, samples_dir, work, env, timeout):
    scratch, home = os.path.join(work, "run"), env["HOME"]
    for fresh in (scratch, home):
        remove_tree(fresh)
    make_writable_copy(samples_dir, scratch)
    os.makedirs(home)
    try:
        proc = subprocess.Popen(
            [interpreter, sample.file, *sample.args],
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
                return b"".join(chunks["stdout"]), b"".join(chunks["stderr"]), f"did not finish within {timeout:g} s"
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
        return b"".join(chunks["stdout"]), b"".join(chunks["stderr"]), f"did not finish within {timeout:g} s"
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


def line_difference(stream, python_bytes, isolate_bytes):
    a, b = split_lines(python_bytes), split_lines(isolate_bytes)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x != y:
            tx = (x or b"").decode("utf-8", "backslashreplace")
            ty = (y or b"").decode("utf-8", "backslashreplace")
            column = next((j for j, (p, q) in enumerate(zip(tx, ty)) if p != q), min(len(tx), len(ty)))
            return {"stream": stream, "line": i + 1, "python": quote(x, column), "isolate": quote(y, column)}
    raise AssertionError("line_difference called on equal streams")


def compare(sample, py, iso):
    """Returns (first difference or None, problem with the reference run or None)."""
    difference = None
    for stream in ("stdout", "stderr"):
        if getattr(py, stream) != getattr(iso, stream):
            difference = line_difference(stream, getattr(py, stream), getattr(iso, stream))
            break
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


def digest(data):
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def reason_of(result):
    d = result.get("firstDifference")
    if d is None:
        return result["problem"]
    if d["stream"] == "exit":
        return f"exit differs: python {d['python']}, isolate {d['isolate']}"
    return f"{d['stream']} differs at line {d['line']}"


def details_of(result):
    lines = [f"{result['name']} ({result['file']}): {reason_of(result)}"]
    d = result.get("firstDifference")
    if d is not None and d["stream"] != "exit":
        lines += [f"    python:  {d['python']}", f"    isolate: {d['isolate']}"]
    if d is not None and result.get("problem"):
        lines.append(f"    also: {result['problem']}")
    return lines


def text_report(report):
    out = ["slime verify: bit-exact comparison of the isolate with CPython",
           f"python:  {report['python']}", f"isolate: {report['isolate']}", ""]
    for r in report["samples"]:
        label = f"{r['category']}/{r['name']}"
        if r["pass"]:
            out.append(f"pass  {label:<44} stdout {r['stdout']['python']['bytes']:>5} B  "
                       f"stderr {r['stderr']['python']['bytes']:>5} B  exit {r['exitCode']['python']}")
        else:
            first, *rest = details_of(r)
            out.append(f"FAIL  {label:<44} {first.split(': ', 1)[1]}")
            out += ["    " + line for line in rest]
    out += ["", f"{report['passed']}/{report['total']} bit-exact"]
    return "\n".join(out) + "\n"


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
    parser.add_argument("--isolate", required=True, help="isolate install prefix (runs bin/isolate)")
    parser.add_argument("--samples", required=True, help="directory holding manifest.json and the samples")
    parser.add_argument("--out", required=True, help="where report.json and report.txt are written")
    parser.add_argument("--work", required=True, help="scratch directory for the runs (inside the build directory)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one run may take (default 30)")
    opts = parser.parse_args(argv)

    try:
        python = cpython_in(opts.python)
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
        except InputError as exc:
            print(f"{PROGRESS} error: {exc}", file=sys.stderr)
            return 2
        difference, problem = compare(sample, py, iso)
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
        results.append(result)
        if result["pass"]:
            progress(f"[{index}/{total}] pass {sample.name}")
        else:
            progress(f"[{index}/{total}] fail {sample.name}: {reason_of(result)}")
            for line in details_of(result):
                print(f"{PROGRESS} {line}", file=sys.stderr, flush=True)

    passed = sum(r["pass"] for r in results)
    report = {"python": opts.python, "isolate": opts.isolate, "timeoutSeconds": opts.timeout,
              "total": total, "passed": passed, "samples": results}
    encoded = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    os.makedirs(opts.out, exist_ok=True)
    for directory in (opts.out, work):
        with open(os.path.join(directory, "report.json"), "w", encoding="utf-8") as f:
            f.write(encoded)
    with open(os.path.join(opts.out, "report.txt"), "w", encoding="utf-8") as f:
        f.write(text_report(report))
    progress(f"{passed}/{total} bit-exact")

    failed = [r["name"] for r in results if not r["pass"]]
    if failed:
        # The store keeps no output of a failed build: say here where else to look.
        print(f"{PROGRESS} {len(failed)} of {total} samples are not bit-exact: {', '.join(failed)}; "
              f"the differences are listed above and in {os.path.join(work, 'report.json')} "
              f"(kept only if the build directory is kept)", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
