"""What an import could not say: one object, its kind, the table it belongs to and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LeftOut:
    """An object the blueprint does not say: its kind, name, table (if any) and why."""

    kind: str
    name: str
    table: str | None = None
    why: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "table": self.table, "why": self.why}
