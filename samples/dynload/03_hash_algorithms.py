"""hashlib and the builtin hash modules (_sha256, _sha1, _md5, _sha512, _sha3, _blake2)."""
import json as _anchor
import os
import sys

# Paths are printed relative to the standard library directory, which differs between
# the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"

import hashlib  # noqa: E402
import importlib  # noqa: E402

data = b"slime bit-exact isolate " * 37
for name in ["_md5", "_sha1", "_sha256", "_sha512", "_sha3", "_blake2"]:
    importlib.import_module(name)
    print(origin(name))
import _sha256  # noqa: E402

print("sha256 builtin:", _sha256.sha256(data).hexdigest())
for algo in ["md5", "sha1", "sha224", "sha256", "sha512", "sha3_256", "blake2b", "blake2s"]:
    h = hashlib.new(algo, data)
    print(algo, h.hexdigest(), type(h).__module__ + "." + type(h).__name__)
print("shake_128", hashlib.shake_128(data).hexdigest(16))
print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex())
print(sorted(hashlib.algorithms_guaranteed))
