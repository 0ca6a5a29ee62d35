"""_random: the Mersenne Twister seeded, so every draw is the same in both interpreters."""
import json as _anchor
import os
import random
import sys

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


print(origin("_random"))
random.seed(20260604)
print(random.random(), random.randint(1, 10**12), random.getrandbits(70))
items = list(range(12))
random.shuffle(items)
print(items, random.choice("abcdefg"), random.sample(range(100), 5))
print(random.choices(["x", "y", "z"], weights=[5, 1, 2], k=10))
print(repr(random.gauss(0, 1)), repr(random.uniform(-1, 1)), repr(random.expovariate(2)))
rng = random.Random("a string seed")
print(rng.random(), rng.randrange(0, 1000, 7), random.Random(1).getstate()[1][:3])
