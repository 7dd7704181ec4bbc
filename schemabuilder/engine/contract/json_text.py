"""The one place a submitted blueprint's JSON text is read: duplicate keys are refused.

``json.loads`` keeps the last of two equal keys silently, so ``{"check": "a > 0", "check":
"true"}`` would show a reviewer one thing and apply another. Every entry point (API, webhook,
web form, CLI) reads through ``loads``.
"""

from __future__ import annotations

import json
from typing import Any

from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue


class _Duplicated(dict[str, Any]):
    """An object that had duplicate keys (found by the hook, located by the walk)."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Duplicated(obj)
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen and key not in marked.duplicates:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _path(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises ``BlueprintInvalid`` naming the path of every duplicated key (and
    ``ValueError`` for text that is not JSON, as ``json.loads`` does)."""
    data = json.loads(text, object_pairs_hook=_pairs)
    issues: list[Issue] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Duplicated):
            for key in value.duplicates:
                issues.append(
                    Issue(
                        _path(path, key),
                        f"the key '{key}' appears more than once in this object: keep one",
                    )
                )
        if isinstance(value, dict):
            stack.extend((v, _path(path, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, _path(path, i)) for i, v in enumerate(value))
    if issues:
        raise BlueprintInvalid(sorted(issues, key=lambda i: i.path))
    return data
