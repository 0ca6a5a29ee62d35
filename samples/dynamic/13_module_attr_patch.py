"""Monkey patching a standard library module: json.dumps is replaced at run time."""
import json

original_dumps = json.dumps


def patched_dumps(obj, **kwargs):
    kwargs.setdefault("sort_keys", True)
    kwargs.setdefault("separators", (",", ":"))
    return "patched:" + original_dumps(obj, **kwargs)


data = {"b": 1, "a": [1, 2]}
print(json.dumps(data))
json.dumps = patched_dumps
print(json.dumps(data))
import json as again
print(again.dumps({"z": None}))
json.dumps = original_dumps
print(json.dumps(data))
