"""dict[str, Any] configuration: defaults deep-merged with overrides of any shape."""
from typing import Any

defaults: dict[str, Any] = {
    "workers": 2,
    "log": {"level": "info", "targets": ["stderr"]},
    "retry": {"count": 3, "backoff": 0.5},
    "name": "default",
}
overrides: dict[str, Any] = {
    "workers": "4",
    "log": {"targets": ["file", "stderr"], "format": "json"},
    "retry": None,
    "extra": {"enabled": True},
}


def merge(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        merged = dict(base)
        for key, value in top.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return base if top is None else top


def coerce(config: dict[str, Any]) -> dict[str, Any]:
    config["workers"] = int(config["workers"])
    return config


def show(prefix: str, node: Any) -> None:
    if isinstance(node, dict):
        for key in sorted(node):
            show(f"{prefix}.{key}" if prefix else key, node[key])
    else:
        print(f"{prefix} = {node!r} ({type(node).__name__})")


show("", coerce(merge(defaults, overrides)))
