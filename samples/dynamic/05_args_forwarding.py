"""A variadic forwarder passes whatever it gets to the real function unchanged."""


def base(a, b=2, *rest, scale=1, **options):
    return (a + b + sum(rest)) * scale + len(options)


def forward(*args, **kwargs):
    return base(*args, **kwargs)


def traced(fn):
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        print(f"{fn.__name__}{args}{sorted(kwargs.items())} = {result}")
        return result
    return wrapper


forward_traced = traced(forward)
forward_traced(1)
forward_traced(1, 2, 3, 4)
forward_traced(5, scale=3, verbose=True)
