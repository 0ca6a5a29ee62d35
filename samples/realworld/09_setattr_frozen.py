"""__setattr__ and __delattr__ that freeze an object after construction."""


class Frozen:
    def __init__(self, **fields):
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"cannot set {name!r}: object is frozen")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete {name!r}: object is frozen")


point = Frozen(x=1, y=2)
print(point.x + point.y)
for action in (lambda: setattr(point, "x", 5), lambda: delattr(point, "y")):
    try:
        action()
    except AttributeError as exc:
        print(f"AttributeError: {exc}")
print(point.x, point.y)
