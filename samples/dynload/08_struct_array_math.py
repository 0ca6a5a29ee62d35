"""_struct, array, math and cmath: binary layouts and floating point results."""
import array
import cmath
import json as _anchor
import math
import os
import struct
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


for name in ["_struct", "array", "math", "cmath"]:
    print(origin(name))
packed = struct.pack("<iQd?5s", -7, 2**63 + 5, 1 / 3, True, b"abc")
print(packed.hex(), struct.calcsize("@iqc"), struct.calcsize("=iqc"))
print(list(struct.iter_unpack(">hH", bytes(range(8)))))
arr = array.array("i", [1, -2, 300000])
arr.byteswap()
print(arr.tobytes().hex(), array.array("d", [0.1, 1e300]).tobytes().hex())
print(math.fsum([0.1] * 10), sum([0.1] * 10), math.isqrt(10**30 + 1), math.comb(60, 30))
print(repr(math.lgamma(0.5)), repr(math.erf(0.5)), repr(math.atan2(-0.0, -1.0)), repr(math.exp(1.5)))
print(math.nextafter(1.0, 2.0), math.ulp(1e300), math.prod(range(1, 21)), math.log2(3), math.cbrt(27.5))
print(cmath.sqrt(-2), cmath.exp(1j * math.pi), cmath.polar(3 + 4j), cmath.phase(-1 - 0j))
