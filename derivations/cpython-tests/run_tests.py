"""CPython's own regression tests as the isolate's second verifier.

Runs each test module of a fixed selection through CPython's test runner (regrtest,
`-m test`) twice, once under `PYTHON/bin/python3.11` and once under
`ISOLATE/bin/isolate`, and requires the same verdict per module. The samples are ours;
this suite is CPython's, installed with the build (lib/python3.11/test).

Usage (build.sh maps the derivation's environment onto these options):

    python3.11 run_tests.py --python DIR --isolate DIR --selection FILE --out DIR --work DIR
                            [--expected-differences FILE] [--jobs N] [--timeout SECONDS]

Selection file grammar:

    file      = { line "\\n" }
    line      = [ entry ] [ "#" comment ]       blank lines and comments are ignored
    entry     = module [ "[" pattern "]" ]       a module of the installed `test` package,
                                                 optionally only the tests regrtest's
                                                 `-m PATTERN` selects (a class or test name)
              | "ALL"                            every module regrtest would run by default
    module    = "test_" name

Expected-differences file grammar (the isolate's designed differences from python3.11):

    file      = { line "\n" }
    line      = [ test-id "  # " reason ]        blank lines and lines starting "#" are ignored
    test-id   = a full regrtest test id, e.g. test.test_cmd_line.CmdLineTest.test_hash_randomization

Each listed test is left out of both runs (regrtest `-i TEST-ID`), so the comparison
covers everything else; the report lists them with their reasons.

Each run is `INTERP -m test --fail-env-changed --junit-xml FILE [-i TEST-ID...] [-m PATTERN] MODULE` (no -u: tests
needing a resource such as the network are skipped in both), with stdin /dev/null,
the working directory WORK/MODULE/{python,isolate}, and, for both interpreters, only:
    PYTHONHASHSEED=0  LC_ALL=C  TZ=UTC  PATH=<this process's PATH>  HOME=<cwd>/home  TMPDIR=<cwd>/tmp
PYTHONHASHSEED=0 is what the isolate does by itself (through its configuration, not its
environment), so the comparison is with `PYTHONHASHSEED=0 python3.11`, as in verify.py.

Verdict of one run, from regrtest's exit status and output, and the junit XML counts:
    passed | skipped (the whole module) | failed | env changed | no tests ran |
    interrupted | exit N (anything else) | timed out
The verdict and the counts (tests, failures, errors, skipped) must be equal.
Up to --jobs modules run at once (each one's two runs run one after the other).

Outputs (deterministic: no times, no temporary paths):
    OUT/report.json = {"python", "isolate", "selection": [modules], "total", "same",
                       "expectedDifferences": [{"test", "reason"}],
                       "modules": [{"name", "same": bool,
                                    "python": {"verdict", "exitCode", "tests", "failures",
                                               "errors", "skipped"},
                                    "isolate": {...},
                                    "differingTests"?: [names whose outcome differs]}]}
    OUT/report.txt  the same for people, ending with `S/N same verdict`
    WORK/report.json a copy, for a failed build (whose OUT the store does not keep)

Progress on stdout, one line per event, read by src/builder/phases/cpython-tests.ts:
    slime-cpython-tests: N modules
    slime-cpython-tests: [I/N] same MODULE: VERDICT
    slime-cpython-tests: [I/N] differ MODULE: python VERDICT, isolate VERDICT
    slime-cpython-tests: S/N same verdict

Exit status: 0 when every module has the same verdict, 1 when any differs (after
writing the report), 2 when the inputs are unusable (no report then).

Only the standard library: this runs under the CPython being verified.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

PROGRESS = "slime-cpython-tests:"
print_lock = threading.Lock()


class InputError(Exception):
    """The inputs cannot be used at all (as opposed to a module whose verdicts differ)."""


def say(message, stream=None):
    with print_lock:
        print(f"{PROGRESS} {message}", file=stream or sys.stdout, flush=True)


def read_selection(path, all_modules):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as exc:
        raise InputError(f"cannot read the test selection {path}: {exc.strerror}") from None
    modules = []
    for number, line in enumerate(lines, 1):
        word = line.split("#", 1)[0].strip()
        if not word:
            continue
        if word == "ALL":
            modules += all_modules()
        elif re.fullmatch(r"test_\w+(\[[\w.*]+\])?", word):
            modules.append(word)
        else:
            raise InputError(f"{path}:{number}: {word!r} is not a test module name (test_NAME, or test_NAME[PATTERN]) or ALL; fix the selection")
    seen = set()
    unique = [m for m in modules if not (m in seen or seen.add(m))]
    if not unique:
        raise InputError(f"{path} selects no test module; list at least one test_NAME")
    return unique


def regrtest_modules(python, env):
    """The modules `python -m test` runs by default, as its own findtests() lists them."""
    code = "from test.libregrtest.main import findtests; print('\\n'.join(findtests()))"
    proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"{python} cannot list its test modules ({proc.stderr.strip().splitlines()[-1:]}); "
                         f"is lib/python3.11/test installed (configure without --disable-test-modules)?")
    return [m for m in proc.stdout.split() if m]


def junit_counts(path):
    """(counts, {test name: outcome}) from regrtest's --junit-xml file, or (None, {}) without one."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None, {}
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    outcomes = {}
    for case in root.iter("testcase"):
        counts["tests"] += 1
        outcome = "passed"
        for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(kind) is not None:
                counts[key] += 1
                outcome = kind
                break
        outcomes[case.get("name", "?")] = outcome
    return counts, outcomes


def verdict_of(module, code, output, killed):
    if killed:
        return "timed out"
    if code == 0:
        if re.search(rf"^{module} skipped", output, re.M) or re.search(r"^1 test skipped", output, re.M):
            return "skipped"
        if "== Tests result: NO TEST RUN" in output or "Tests result: NO TEST RUN" in output:
            return "no tests ran"
        return "passed"
    return {2: "failed", 3: "env changed", 4: "no tests ran", 130: "interrupted"}.get(code, f"exit {code}")


def read_expected_differences(path):
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as exc:
        raise InputError(f"cannot read the expected differences {path}: {exc.strerror}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        test, sep, reason = line.partition("  # ")
        test = test.strip()
        if not sep or not reason.strip() or not re.fullmatch(r"test\.test_\w+(\.\w+)+", test):
            raise InputError(f"{path}:{number}: expected `test.test_MODULE.Class.test_name  # reason`, got {line!r}")
        out.append({"test": test, "reason": reason.strip()})
    return out


def split_entry(entry):
    """`test_x[Pattern]` -> ("test_x", ["-m", "Pattern"]); `test_x` -> ("test_x", [])."""
    module, _, rest = entry.partition("[")
    return module, (["-m", rest[:-1]] if rest else [])


def run_module(interpreter, entry, work, timeout, ignored):
    module, match = split_entry(entry)
    home = os.path.join(work, "home")
    tmp = os.path.join(work, "tmp")
    os.makedirs(home)
    os.makedirs(tmp)
    xml = os.path.join(work, "junit.xml")
    env = {"PYTHONHASHSEED": "0", "LC_ALL": "C", "TZ": "UTC", "PATH": os.environ.get("PATH", os.defpath),
           "HOME": home, "TMPDIR": tmp}
    argv = [interpreter, "-m", "test", "--fail-env-changed", "--junit-xml", xml,
            *[arg for test in ignored for arg in ("-i", test)], *match, module]
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    killed = False
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        output, _ = proc.communicate()
    text = output.decode("utf-8", "backslashreplace")
    with open(os.path.join(work, "output.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    counts, outcomes = junit_counts(xml)
    return {
        "verdict": verdict_of(module, proc.returncode, text, killed),
        "exitCode": None if killed else proc.returncode,
        **(counts or {"tests": None, "failures": None, "errors": None, "skipped": None}),
    }, outcomes, time.monotonic() - started


def summary(result):
    r = result
    if r["tests"] is None:
        return r["verdict"]
    return f"{r['verdict']} ({r['tests']} tests, {r['failures']} failures, {r['errors']} errors, {r['skipped']} skipped)"


def compare(python, isolate, module, work, timeout, ignored):
    base = os.path.join(work, module)
    shutil.rmtree(base, ignore_errors=True)
    py, py_outcomes, py_s = run_module(python, module, os.path.join(base, "python"), timeout, ignored)
    iso, iso_outcomes, iso_s = run_module(isolate, module, os.path.join(base, "isolate"), timeout, ignored)
    entry = {"name": module, "same": py == iso, "python": py, "isolate": iso}
    differing = sorted(n for n in set(py_outcomes) | set(iso_outcomes) if py_outcomes.get(n) != iso_outcomes.get(n))
    if differing:
        entry["differingTests"] = differing[:50]
    return entry, py_s, iso_s


def text_report(report):
    out = ["slime cpython-tests: CPython's regression tests, the isolate against its own python3.11",
           f"python:  {report['python']}", f"isolate: {report['isolate']}", ""]
    for m in report["modules"]:
        if m["same"]:
            out.append(f"same    {m['name']:<32} {summary(m['python'])}")
        else:
            out.append(f"DIFFER  {m['name']:<32} python {summary(m['python'])}")
            out.append(f"        {'':<32} isolate {summary(m['isolate'])}")
            for name in m.get("differingTests", []):
                out.append(f"        {'':<32} differs: {name}")
    if report["expectedDifferences"]:
        out += ["", "left out of both runs (the isolate's designed differences):"]
        out += [f"  {d['test']}: {d['reason']}" for d in report["expectedDifferences"]]
    out += ["", f"{report['same']}/{report['total']} same verdict"]
    return "\n".join(out) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description="Run CPython's test modules under python3.11 and the isolate; compare verdicts.")
    parser.add_argument("--python", required=True, help="CPython install prefix (runs its bin/python3.11)")
    parser.add_argument("--isolate", required=True, help="isolate install prefix (runs bin/isolate)")
    parser.add_argument("--selection", required=True, help="file listing the test modules (see the header)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--expected-differences", help="file of tests left out of both runs, with reasons (see the header)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one module's run may take (default 600)")
    opts = parser.parse_args(argv)

    python = os.path.join(opts.python, "bin", "python3.11")
    isolate = os.path.join(opts.isolate, "bin", "isolate")
    work = os.path.abspath(opts.work)
    try:
        for role, path in (("python", python), ("isolate", isolate)):
            if not os.access(path, os.X_OK):
                raise InputError(f"the {role} {path} does not exist or is not executable; --{role} must be its install prefix")
        if not os.path.isdir(os.path.join(opts.python, "lib", "python3.11", "test", "libregrtest")):
            raise InputError(f"{opts.python}/lib/python3.11/test is not installed; build CPython without --disable-test-modules")
        env = {"PATH": os.environ.get("PATH", os.defpath), "PYTHONHASHSEED": "0"}
        modules = read_selection(opts.selection, lambda: regrtest_modules(python, env))
        expected = read_expected_differences(opts.expected_differences)
    except InputError as exc:
        say(f"error: {exc}", sys.stderr)
        return 2

    os.makedirs(work, exist_ok=True)
    total = len(modules)
    say(f"{total} modules")
    results = {}
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futures = {pool.submit(compare, python, isolate, m, work, opts.timeout, [d["test"] for d in expected]): m for m in modules}
        for future in concurrent.futures.as_completed(futures):
            entry, py_s, iso_s = future.result()
            results[entry["name"]] = entry
            done += 1
            if entry["same"]:
                say(f"[{done}/{total}] same {entry['name']}: {entry['python']['verdict']}  ({py_s:.1f} s / {iso_s:.1f} s)")
            else:
                say(f"[{done}/{total}] differ {entry['name']}: python {entry['python']['verdict']}, isolate {entry['isolate']['verdict']}")
                say(f"{entry['name']}: python {summary(entry['python'])}; isolate {summary(entry['isolate'])}; "
                    f"outputs in {os.path.join(work, entry['name'])}/{{python,isolate}}/output.txt", sys.stderr)
                for name in entry.get("differingTests", []):
                    say(f"{entry['name']}: differs: {name}", sys.stderr)

    ordered = [results[m] for m in modules]
    same = sum(m["same"] for m in ordered)
    report = {"python": opts.python, "isolate": opts.isolate, "selection": modules, "total": total, "same": same,
              "expectedDifferences": expected, "modules": ordered}
    encoded = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    os.makedirs(opts.out, exist_ok=True)
    for directory in (opts.out, work):
        with open(os.path.join(directory, "report.json"), "w", encoding="utf-8") as f:
            f.write(encoded)
    with open(os.path.join(opts.out, "report.txt"), "w", encoding="utf-8") as f:
        f.write(text_report(report))
    say(f"{same}/{total} same verdict")
    differing = [m["name"] for m in ordered if not m["same"]]
    if differing:
        say(f"{len(differing)} of {total} test modules differ: {', '.join(differing)}; their outputs are in {work} "
            f"(kept only if the build directory is kept)", sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
