"""An uncaught KeyboardInterrupt: a traceback on stderr, then CPython kills itself with
SIGINT so that the parent sees death by signal (a shell reports 130)."""
import sys

print("working...")
sys.stdout.flush()


def long_task():
    raise KeyboardInterrupt


long_task()
