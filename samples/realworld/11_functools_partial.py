"""functools.partial, a partial of a partial, and their introspection."""
import functools


def power(base, exponent, *, modulo=None):
    value = base ** exponent
    return value if modulo is None else value % modulo


square = functools.partial(power, exponent=2)
cube_mod = functools.partial(functools.partial(power, exponent=3), modulo=10)
print(square(12), cube_mod(7))
print(cube_mod.func.__name__, cube_mod.args, sorted(cube_mod.keywords.items()))
print(list(map(functools.partial(power, 2), range(6))))
