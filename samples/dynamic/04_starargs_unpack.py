"""Unpacking at the call site: f(*vals), f(**mapping), f(*a, **b) and nested unpacking."""


def point(x, y, z=0, *, label="p"):
    return f"{label}({x},{y},{z})"


vals = [1, 2, 3]
mapping = {"x": 4, "y": 5, "label": "q"}
print(point(*vals))
print(point(**mapping))
print(point(*vals[:2], **{"z": 9, "label": "r"}))
print(point(*range(2), *[7]))
first, *middle, last = [10, 20, 30, 40]
print(first, middle, last)
print([*"ab", *{"c": 1}, *(d for d in "de")])
print({**{"a": 1, "b": 2}, **{"b": 3}})
