"""sys.argv, sys.path[0], __file__ and the working directory, relative to the script's
directory (absolute paths differ between machines, their shape must not)."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
print("argv[1:]", sys.argv[1:])
print("argv[0]", os.path.relpath(sys.argv[0], here), os.path.isabs(sys.argv[0]))
print("__file__", os.path.relpath(__file__, here), os.path.isabs(__file__))
print("__name__", __name__, "__spec__", __spec__, "__package__", __package__)
print("path[0]", os.path.relpath(sys.path[0], here), os.path.isabs(sys.path[0]))
print("cwd", os.path.relpath(os.getcwd(), here))
print("path tail", [os.path.relpath(p, sys.prefix) for p in sys.path[1:]])
print("encodings", sys.stdout.encoding, sys.stdout.errors, sys.stderr.errors, sys.getfilesystemencoding())
print("flags", {k: getattr(sys.flags, k) for k in ("utf8_mode", "hash_randomization", "isolated", "no_user_site",
                                                     "safe_path", "optimize", "dev_mode", "dont_write_bytecode")})
print("streams", [(s.line_buffering, s.write_through, type(s.buffer).__name__) for s in (sys.stdout, sys.stderr)])
print("hash", hash("slime"), hash((1, "a")), sorted({"b", "a", "c"}), list({"x": 1, "y": 2}))
print("version", sys.version_info[:2], sys.implementation.name, sys.byteorder)
print("main module", sys.modules["__main__"] is sys.modules[__name__], __builtins__.__name__)
