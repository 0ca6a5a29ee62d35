"""hashlib and the builtin hash modules (_md5, _sha1, _sha256/_sha512 or _sha2, _sha3, _blake2)."""
import hashlib
import importlib
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


data = b"slime bit-exact isolate " * 37
# CPython 3.12 merged _sha256 and _sha512 into _sha2: which ones exist is part of what
# both interpreters must agree on.
builtin = {}
for name in ["_md5", "_sha1", "_sha2", "_sha256", "_sha512", "_sha3", "_blake2"]:
    try:
        builtin[name] = importlib.import_module(name)
    except ImportError:
        print(f"{name}: absent")
    else:
        print(origin(name))
sha256_module = builtin.get("_sha256") or builtin["_sha2"]
print("sha256 builtin:", sha256_module.sha256(data).hexdigest())
for algo in ["md5", "sha1", "sha224", "sha256", "sha512", "sha3_256", "blake2b", "blake2s"]:
    h = hashlib.new(algo, data)
    print(algo, h.hexdigest(), type(h).__module__ + "." + type(h).__name__)
print("shake_128", hashlib.shake_128(data).hexdigest(16))
print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex())
print(sorted(hashlib.algorithms_guaranteed))
