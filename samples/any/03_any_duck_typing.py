"""Functions typed Any that only rely on the methods an object happens to have."""
import math
from typing import Any


class Square:
    def __init__(self, side: float) -> None:
        self.side = side

    def area(self) -> float:
        return self.side ** 2


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius ** 2


class Label:
    def __init__(self, text: str) -> None:
        self.text = text

    def __len__(self) -> int:
        return len(self.text)


def measure(thing: Any) -> str:
    if hasattr(thing, "area"):
        return f"{type(thing).__name__} area={thing.area():.6f}"
    try:
        return f"{type(thing).__name__} len={len(thing)}"
    except TypeError as exc:
        return f"{type(thing).__name__} unmeasurable: {exc}"


for item in [Square(3), Circle(1.5), Label("hello"), [1, 2, 3], 42]:
    print(measure(item))
