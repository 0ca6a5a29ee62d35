"""_decimal (libmpdec) behind decimal: precision, rounding, traps and where it came from."""
import decimal
import json as _anchor
import os
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


print(origin("_decimal"))
print("pure-python fallback:", "_pydecimal" in sys.modules)
ctx = decimal.getcontext()
ctx.prec = 40
D = decimal.Decimal
print(D(2).sqrt())
print(D(1) / D(7))
print(D(1).exp(), D(10).ln())
print(D("2.675").quantize(D("0.01"), rounding=decimal.ROUND_HALF_EVEN), D("2.675").quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP))
print(D.from_float(0.1))
with decimal.localcontext() as local:
    local.traps[decimal.DivisionByZero] = False
    print(D(1) / D(0), bool(local.flags[decimal.DivisionByZero]))
try:
    D(1) / D(0)
except decimal.DivisionByZero as exc:
    print("DivisionByZero:", type(exc).__mro__[1].__name__)
