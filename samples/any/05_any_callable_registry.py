"""A registry of Any-typed callables (functions, lambdas, classes, bound methods)."""
from typing import Any, Callable


class Accumulator:
    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, item: Any) -> int:
        self.items.append(item)
        return len(self.items)


class Pair:
    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b

    def __repr__(self) -> str:
        return f"Pair({self.a!r}, {self.b!r})"


acc = Accumulator()
registry: dict[str, Callable[..., Any]] = {
    "double": lambda x: x * 2,
    "join": "-".join,
    "pair": Pair,
    "add": acc.add,
    "length": len,
    "maximum": max,
}
calls: list[tuple[str, tuple[Any, ...]]] = [
    ("double", (21,)),
    ("double", ("ab",)),
    ("join", (["x", "y", "z"],)),
    ("pair", (1, "one")),
    ("add", ("first",)),
    ("add", ({"second": 2},)),
    ("length", ([None] * 5,)),
    ("maximum", (3, 9, 4)),
]
for name, args in calls:
    result: Any = registry[name](*args)
    print(f"{name}{args!r} -> {result!r}")
print(f"accumulated={acc.items!r}")
