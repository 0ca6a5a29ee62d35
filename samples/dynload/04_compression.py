"""zlib, _bz2 and _lzma: round trips, checksums and the modules' origins."""
import binascii
import bz2
import hashlib
import json as _anchor
import lzma
import os
import sys
import zlib

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


payload = "".join(f"line {i}: {'abc' * (i % 7)}\n" for i in range(400)).encode()
for name in ["zlib", "_bz2", "_lzma", "binascii"]:
    print(origin(name))
print("payload", len(payload), zlib.crc32(payload), zlib.adler32(payload), binascii.crc32(payload))
z = zlib.compress(payload, 9)
print("zlib", len(z), hashlib.sha256(z).hexdigest()[:16], zlib.decompress(z) == payload)
stream = zlib.decompressobj()
pieces = [stream.decompress(z[i:i + 100]) for i in range(0, len(z), 100)]
print("zlib streamed", sum(map(len, pieces)), stream.eof)
b = bz2.compress(payload, 9)
print("bz2", len(b), hashlib.sha256(b).hexdigest()[:16], bz2.decompress(b) == payload)
x = lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
print("xz", len(x), lzma.decompress(x) == payload, lzma.is_check_supported(lzma.CHECK_SHA256))
raw = lzma.compress(payload, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
print("raw lzma2", len(raw), hashlib.sha256(raw).hexdigest()[:16])
print(binascii.hexlify(binascii.b2a_base64(b"\x00\xffslime")).decode())
