"""contextlib.contextmanager, nested, with cleanup when the body raises."""
from contextlib import ExitStack, contextmanager

events = []


@contextmanager
def tag(name):
    events.append(f"<{name}>")
    try:
        yield name.upper()
    finally:
        events.append(f"</{name}>")


with tag("html") as a, tag("body") as b:
    events.append(f"{a}+{b}")
try:
    with tag("div"):
        raise KeyError("inside")
except KeyError as exc:
    events.append(f"caught {exc}")
with ExitStack() as stack:
    names = [stack.enter_context(tag(n)) for n in ("x", "y")]
    events.append(",".join(names))
print("".join(events))
