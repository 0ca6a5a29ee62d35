"""A parsed JSON document is Any all the way down: walk it and aggregate by kind."""
import json
from typing import Any

document: Any = json.loads(
    '{"name": "slime", "tags": ["a", "b"], "sizes": [1, 2.5, {"deep": 4}],'
    ' "flag": false, "nothing": null, "nested": {"x": {"y": [10, 20]}}}'
)


def walk(node: Any, path: str, out: list[str]) -> float:
    if isinstance(node, dict):
        return sum(walk(node[k], f"{path}.{k}", out) for k in sorted(node))
    if isinstance(node, list):
        return sum(walk(item, f"{path}[{i}]", out) for i, item in enumerate(node))
    out.append(f"{path}={node!r}")
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return node
    return 0


leaves: list[str] = []
total = walk(document, "$", leaves)
print("\n".join(leaves))
print(f"numeric total={total}")
print(json.dumps(document, sort_keys=True, separators=(",", ":")))
