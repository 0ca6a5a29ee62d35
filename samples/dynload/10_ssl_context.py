"""_ssl if the interpreter has it: a default client context and its settings."""
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


try:
    import ssl
except ImportError as exc:
    print("ssl: absent:", exc)
    raise SystemExit(0)

print(origin("_ssl"))
print(ssl.OPENSSL_VERSION)
ctx = ssl.create_default_context()
print(ctx.protocol.name, ctx.verify_mode.name, ctx.check_hostname, ctx.minimum_version.name)
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
print(server.verify_mode.name, ssl.HAS_TLSv1_3, ssl.HAS_SNI)
print(sorted(c["name"] for c in ctx.get_ciphers())[:3])
try:
    ctx.load_verify_locations(cadata="not a certificate")
except ssl.SSLError as exc:
    print("SSLError:", exc.reason)
