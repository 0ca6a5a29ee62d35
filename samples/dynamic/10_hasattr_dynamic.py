"""hasattr with variable names, including properties that raise and __getattr__."""


class Thing:
    colour = "red"

    @property
    def broken(self):
        raise AttributeError("not today")

    @property
    def failing(self):
        raise ValueError("still raises")

    def __getattr__(self, name):
        if name.startswith("auto_"):
            return name[5:]
        raise AttributeError(name)


thing = Thing()
for name in ["colour", "shape", "broken", "auto_size", "__class__"]:
    print(f"{name}: {hasattr(thing, name)}")
try:
    hasattr(thing, "failing")
except ValueError as exc:
    print(f"failing: ValueError {exc}")
