"""_json: the C scanner and encoder behind json, and where _json was loaded from."""
# A missing accelerator must fail loudly, not fall back.
import _json
import json as _anchor
import json.decoder
import json.encoder
import os
import sys
from decimal import Decimal

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


print(origin("_json"))
print("c_scanstring:", json.decoder.c_scanstring is _json.scanstring)
print("c_make_encoder:", json.encoder.c_make_encoder is _json.make_encoder)
doc = {"name": "Ünïcödé ✓", "values": [1, 2.5, -3e-7, None, True], "nested": {"k": [[], {}]}}
text = json.dumps(doc, sort_keys=True)
print(text)
print(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1))
back = json.loads(text, parse_float=Decimal)
print(back["values"], back == json.loads(text))
print(_json.scanstring('"a\\u00e9\\n" tail', 1))
