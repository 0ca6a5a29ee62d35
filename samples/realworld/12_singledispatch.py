"""functools.singledispatch: one generic function, implementations chosen by type."""
import functools
from decimal import Decimal


@functools.singledispatch
def show(value):
    return f"object:{value!r}"


@show.register
def _(value: int):
    return f"int:{value:+d}"


@show.register(list)
def _(value):
    return "list:[" + ",".join(show(v) for v in value) + "]"


@show.register(float)
@show.register(Decimal)
def _(value):
    return f"number:{value:.2f}"


for v in [5, True, 2.5, Decimal("1.005"), [1, "x"], None]:
    print(show(v))
print(show.dispatch(bool).__name__, sorted(t.__name__ for t in show.registry))
