"""_pickle: the C pickler, protocols 0 to 5, a custom __reduce__ and stable bytes."""
import hashlib
import json as _anchor
import os
import _pickle
import pickle
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


class Money:
    def __init__(self, amount, currency):
        self.amount, self.currency = amount, currency

    def __reduce__(self):
        return (Money, (self.amount, self.currency))

    def __eq__(self, other):
        return (self.amount, self.currency) == (other.amount, other.currency)


print(origin("_pickle"))
print("C pickler:", pickle.Pickler is _pickle.Pickler, pickle.dumps is _pickle.dumps)
value = {"ints": list(range(-3, 300, 50)), "text": "ü" * 3, "pair": (1.5, None),
         "nested": [[b"raw"], frozenset({1, 2, 3})], "money": Money(12, "EUR"), "big": 2**100}
for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
    data = pickle.dumps(value, protocol=protocol)
    print(protocol, len(data), hashlib.sha256(data).hexdigest()[:16], pickle.loads(data) == value)
