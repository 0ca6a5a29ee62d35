"""functools.wraps on a counting wrapper: metadata survives, a closure keeps the count."""
import functools


def counted(fn):
    calls = 0

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        wrapper.calls = calls
        return fn(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


@counted
def greet(name: str) -> str:
    """Say hello."""
    return f"hello {name}"


print(greet("a"), greet("b"), greet.calls)
print(greet.__name__, greet.__doc__, greet.__annotations__, greet.__wrapped__("c"))
