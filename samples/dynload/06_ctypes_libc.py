"""_ctypes: calling libc (strlen, qsort with a Python callback, snprintf) and structures."""
import ctypes
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


print(origin("_ctypes"))
libc = ctypes.CDLL(None)
libc.strlen.argtypes = [ctypes.c_char_p]
libc.strlen.restype = ctypes.c_size_t
print("strlen", libc.strlen(b"bit-exact"))

values = (ctypes.c_int * 8)(5, -2, 9, 0, 7, 7, -11, 3)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def compare(a, b):
    return (a[0] > b[0]) - (a[0] < b[0])


libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), CMP(compare))
print("qsort", list(values))

buf = ctypes.create_string_buffer(64)
libc.snprintf(buf, ctypes.sizeof(buf), b"%s|%05d|%.3f", b"fmt", ctypes.c_int(42), ctypes.c_double(2.5))
print("snprintf", buf.value.decode())


class Pair(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_char), ("value", ctypes.c_int64), ("ratio", ctypes.c_float)]


p = Pair(b"x", 1 << 40, 0.25)
print("struct", ctypes.sizeof(Pair), Pair.value.offset, bytes(p)[8:16].hex(), p.ratio)
print("sizes", [ctypes.sizeof(t) for t in (ctypes.c_short, ctypes.c_long, ctypes.c_void_p, ctypes.c_longdouble)])
