"""Static signals of a Python script, for slime's Full/Light router (src/router/).

Run by the Full tier's own CPython 3.11 (so the grammar is exactly the one the script
will run under):

    python3.11 -I analyze.py SCRIPT

Prints one JSON object on stdout:

    {
      "ok": true,
      "signals": [ {"kind": KIND, "line": N, "detail": TEXT, ...}, ... ],
      "imports": [ "json", "os.path", ... ]          every module the script names
    }

or, when the script does not parse, {"ok": false, "error": TEXT, "line": N}; the exit
status is 0 either way (the router decides what a syntax error means), 2 when SCRIPT
cannot be read.

KIND is one of:
    exception-text   output may depend on an exception's message: str(e), repr(e),
                     e.args, format(e), f"{e}", print(e), traceback.*, sys.exc_info(),
                     logging.exception, an uncaught raise at module level
    dynamic-code     eval / exec / compile, __import__ or importlib.import_module with a
                     name that is not a string literal
    hot-loop         range() with a constant bound >= HOT_RANGE, nested loops whose
                     constant bounds multiply past HOT_RANGE, `while True`
    unknown-bound    a range() bound that is not a constant (read from argv, input...):
                     the static pass cannot tell; the run-time profile decides
    recursion        a function that calls itself by name: depth is a run-time matter
    host-query       reads what differs between a native and a wasm host: sys.platform,
                     sys.executable, sys.prefix, os.name, os.uname(), platform.*,
                     sysconfig.*, os.getpid(), os.cpu_count(), os.environ, time.time()...
Only the standard library: it runs under the CPython being routed for.
"""

import ast
import json
import sys

# A loop of this many iterations costs ~tens of ms on the Full tier and several times
# that on a wasm interpreter: past it, speed decides for Full.
HOT_RANGE = 100_000

EXCEPTION_TEXT_CALLS = {"str", "repr", "format", "print"}
TRACEBACK_FUNCS = {"format_exc", "print_exc", "format_exception", "print_exception",
                   "format_exception_only", "extract_tb", "format_tb", "print_tb", "TracebackException"}


def const_int(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Pow, ast.Sub)):
        a, b = const_int(node.left), const_int(node.right)
        if a is None or b is None:
            return None
        try:
            if isinstance(node.op, ast.Pow):
                return a ** b if b < 64 else None
            return {ast.Mult: a * b, ast.Add: a + b, ast.Sub: a - b}[type(node.op)]
        except Exception:
            return None
    return None


def range_bound(call):
    """(bound, known) of a range(...) call, or None when the node is not one."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"):
        return None
    args = call.args
    if not args:
        return None
    if len(args) == 1:
        n = const_int(args[0])
        return (n, n is not None)
    lo, hi = const_int(args[0]), const_int(args[1])
    step = const_int(args[2]) if len(args) > 2 else 1
    if lo is None or hi is None or step in (None, 0):
        return (None, False)
    return (max(0, (hi - lo) // step), True)


# Attributes whose value is the host's, not the program's: a wasm interpreter answers
# them differently from the native one (and python3.11), whatever the program does.
HOST_ATTRS = {
    "sys": {"platform", "executable", "prefix", "exec_prefix", "base_prefix", "implementation",
            "getwindowsversion", "_base_executable", "platlibdir", "maxsize", "thread_info"},
    "os": {"name", "uname", "getpid", "getppid", "cpu_count", "environ", "getenv", "getuid", "getlogin",
           "sched_getaffinity", "times", "getloadavg"},
    "time": {"time", "time_ns", "perf_counter", "monotonic", "process_time", "localtime", "ctime"},
}
HOST_MODULES = {"platform", "sysconfig", "resource", "getpass"}


class Analyzer(ast.NodeVisitor):
    def __init__(self):
        self.signals = []
        self.imports = set()
        self.exc_names = set()  # names bound by `except ... as NAME`
        self.loop_bounds = []  # stack of constant iteration counts of enclosing loops
        self.functions = []  # stack of enclosing function names
        self.try_depth = 0

    def add(self, kind, node, detail, **extra):
        entry = {"kind": kind, "line": getattr(node, "lineno", 0), "detail": detail}
        entry.update(extra)
        self.signals.append(entry)

    # -- imports -------------------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            self.imports.add(alias.name)
            if alias.name == "traceback":
                self.add("exception-text", node, "imports traceback")

    def visit_ImportFrom(self, node):
        if node.level == 0 and node.module:
            self.imports.add(node.module)
            for alias in node.names:
                self.imports.add(f"{node.module}.{alias.name}")
            if node.module == "traceback":
                self.add("exception-text", node, "imports from traceback")

    # -- exceptions ------------------------------------------------------------------
    def visit_Try(self, node):
        self.try_depth += 1
        for stmt in node.body:
            self.visit(stmt)
        self.try_depth -= 1
        for handler in node.handlers:
            self.visit(handler)
        for stmt in node.orelse + node.finalbody:
            self.visit(stmt)

    visit_TryStar = visit_Try

    def visit_ExceptHandler(self, node):
        if node.name:
            self.exc_names.add(node.name)
        self.generic_visit(node)

    def visit_Raise(self, node):
        if not self.functions and self.try_depth == 0 and node.exc is not None:
            self.add("exception-text", node, "uncaught raise at module level: the traceback prints its message")
        self.generic_visit(node)

    def is_exc(self, node):
        return isinstance(node, ast.Name) and node.id in self.exc_names

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name):
            owner = node.value.id
            if node.attr in HOST_ATTRS.get(owner, ()) :
                self.add("host-query", node, f"reads {owner}.{node.attr}, which is the host's")
            elif owner in HOST_MODULES:
                self.add("host-query", node, f"uses {owner}.{node.attr}, which describes the host")
        if self.is_exc(node.value) and node.attr in ("args", "msg", "strerror", "message", "__str__", "__repr__"):
            self.add("exception-text", node, f"reads {node.value.id}.{node.attr}")
        self.generic_visit(node)

    def visit_FormattedValue(self, node):
        if self.is_exc(node.value):
            self.add("exception-text", node, f"formats exception {node.value.id} into a string")
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        attr = func.attr if isinstance(func, ast.Attribute) else None
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        if name in EXCEPTION_TEXT_CALLS and any(self.is_exc(a) for a in node.args):
            self.add("exception-text", node, f"{name}() of a caught exception")
        if owner == "traceback" and attr in TRACEBACK_FUNCS or name in TRACEBACK_FUNCS:
            self.add("exception-text", node, f"traceback.{attr or name}()")
        if owner == "sys" and attr in ("exc_info", "exception"):
            self.add("exception-text", node, f"sys.{attr}()")
        if owner in ("logging", "logger", "log") and attr == "exception":
            self.add("exception-text", node, "logging.exception() prints the traceback")
        if name in ("eval", "exec", "compile"):
            self.add("dynamic-code", node, f"{name}() runs code the static pass cannot see")
        if name == "__import__" or (owner == "importlib" and attr == "import_module"):
            target = node.args[0] if node.args else None
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                self.imports.add(target.value)
            else:
                self.add("dynamic-code", node, f"{name or 'importlib.import_module'}() of a computed module name")
        if name and self.functions and name == self.functions[-1]:
            self.add("recursion", node, f"{name}() calls itself")
        bound = range_bound(node)
        if bound is not None and not bound[1]:
            self.add("unknown-bound", node, "range() bound is computed at run time")
        self.generic_visit(node)

    # -- loops -----------------------------------------------------------------------
    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        bound = range_bound(node.iter)
        n = bound[0] if bound and bound[1] else None
        self.loop(node, n, node.body + node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node):
        self.visit(node.test)
        forever = isinstance(node.test, ast.Constant) and bool(node.test.value) is True
        if forever:
            self.add("hot-loop", node, "`while True` runs until something inside stops it")
        self.loop(node, None, node.body + node.orelse)

    def loop(self, node, n, body):
        enclosing = 1
        for b in self.loop_bounds:
            enclosing *= b if b else 1
        if n is not None:
            total = n * enclosing
            if total >= HOT_RANGE:
                what = f"range of {n:,}" if enclosing == 1 else f"nested loops of {total:,} iterations"
                self.add("hot-loop", node, what, iterations=total)
        self.loop_bounds.append(n)
        for stmt in body:
            self.visit(stmt)
        self.loop_bounds.pop()

    def visit_comprehension_like(self, node):
        for gen in node.generators:
            bound = range_bound(gen.iter)
            if bound and bound[1] and bound[0] >= HOT_RANGE:
                self.add("hot-loop", node, f"comprehension over a range of {bound[0]:,}", iterations=bound[0])
        self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_like

    # -- functions -------------------------------------------------------------------
    def visit_FunctionDef(self, node):
        for d in node.decorator_list:
            self.visit(d)
        self.functions.append(node.name)
        saved = self.loop_bounds
        self.loop_bounds = []  # a body's loops run per call: not multiplied by the caller's
        for stmt in node.body:
            self.visit(stmt)
        self.loop_bounds = saved
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef


def main():
    if len(sys.argv) != 2:
        print("usage: analyze.py SCRIPT", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            source = f.read()
    except OSError as e:
        print(f"cannot read {sys.argv[1]}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        tree = ast.parse(source, filename=sys.argv[1])
    except SyntaxError as e:
        json.dump({"ok": False, "error": e.msg, "line": e.lineno or 0}, sys.stdout)
        return 0
    a = Analyzer()
    a.visit(tree)
    json.dump({"ok": True, "signals": a.signals, "imports": sorted(a.imports)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
