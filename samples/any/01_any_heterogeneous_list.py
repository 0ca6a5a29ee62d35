"""typing.Any values of mixed runtime types, told apart only at run time."""
from typing import Any

values: list[Any] = [3, "three", 3.5, None, [1, 2], (4, 5), {"k": 6}, True, b"\x00\xff"]


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"bool:{value}"
    if isinstance(value, int):
        return f"int:{value * 2}"
    if isinstance(value, float):
        return f"float:{value / 2}"
    if isinstance(value, str):
        return f"str:{value.upper()}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}:{sum(value)}"
    if isinstance(value, dict):
        return f"dict:{sorted(value.items())}"
    if isinstance(value, bytes):
        return f"bytes:{value.hex()}"
    return f"other:{value!r}"


for v in values:
    print(describe(v))
