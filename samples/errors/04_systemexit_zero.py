"""raise SystemExit(0) from deep inside: cleanup runs, the exit status is 0."""


def deep(level):
    if level == 0:
        raise SystemExit(0)
    try:
        deep(level - 1)
    finally:
        print(f"unwinding level {level}")


try:
    deep(3)
except SystemExit as exc:
    print(f"caught SystemExit code={exc.code!r}, re-raising")
    raise
