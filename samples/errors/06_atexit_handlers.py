"""atexit: handlers run last-in first-out after the main module, with their arguments;
an unregistered one does not run; one that raises is reported on stderr and the exit
status stays 0."""
import atexit
import sys


class FailingHook:
    # A stable repr: CPython prints the failing callable, and a default repr holds an address.
    def __repr__(self):
        return "<FailingHook>"

    def __call__(self):
        raise RuntimeError("hook failed on purpose")


def report(label, *, stream="stdout"):
    print(f"atexit: {label}", file=getattr(sys, stream))


def never():
    print("atexit: unregistered handler ran")


atexit.register(report, "registered first, runs last")
atexit.register(FailingHook())
atexit.register(never)
atexit.register(report, "to stderr", stream="stderr")
atexit.register(report, "registered last, runs first")
atexit.unregister(never)
print("main module finished")
